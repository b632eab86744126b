//! The canvas's zoom limits and fit: what is drawn at which zoom, and how the view frames the nodes.

/** Below this zoom labels cannot be read: edges drop them and nodes show their name only. */
export const DETAIL_ZOOM = 0.5;
export const MIN_ZOOM = 0.1;
export const FIT_MAX_ZOOM = 1.25;
/** Keeps the outer handles clear of the border, where dragging a link auto-pans the view. */
export const FIT_PADDING = 0.15;
export const FIT = { padding: FIT_PADDING, minZoom: MIN_ZOOM, maxZoom: FIT_MAX_ZOOM };
export const zoomedOut = (s: { transform: [number, number, number] }) => s.transform[2] < DETAIL_ZOOM;
/** A click within this many screen pixels of a zoomed-out edge selects it. */
export const FAR_HIT_PX = 6;
