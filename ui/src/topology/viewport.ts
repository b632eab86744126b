//! The canvas's zoom limits and fit: what is drawn at which zoom, and how the view frames the nodes.

/** Below this zoom labels cannot be read: edges drop them and nodes show their name only. */
export const DETAIL_ZOOM = 0.5;
export const MIN_ZOOM = 0.1;
export const FIT_MAX_ZOOM = 1.25;
/** Keeps the outer handles clear of the border, where dragging a link auto-pans the view. */
export const FIT_PADDING = 0.15;
export const FIT = { padding: FIT_PADDING, minZoom: MIN_ZOOM, maxZoom: FIT_MAX_ZOOM };
export const zoomedOut = (s: { transform: [number, number, number] }) => s.transform[2] < DETAIL_ZOOM;
/**
 * Below this zoom a zoomed-out node's name (28 px) is under 4.2 px tall: a smudge, not a word. A
 * fleet of 1,000 fits the view at MIN_ZOOM, where the names were half of what a drag frame paints.
 * (100 nodes fit at about 0.17: their names stay.)
 */
export const NAME_ZOOM = 0.15;
/** What a node shows at the canvas's zoom: its card, its name, or its box alone (the name in its tooltip). */
export type NodeDetail = "card" | "name" | "box";
export const nodeDetail = (s: { transform: [number, number, number] }): NodeDetail =>
  s.transform[2] < NAME_ZOOM ? "box" : s.transform[2] < DETAIL_ZOOM ? "name" : "card";
/** A click within this many screen pixels of a zoomed-out edge selects it. */
export const FAR_HIT_PX = 6;
