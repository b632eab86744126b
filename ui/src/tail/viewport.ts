//! Where a scrolling list stands: its scroll position and height, followed across scrolls and
//! resizes (what the tail and the compare view ask the studio for a page of rows by).
import { useEffect, useState, type RefObject } from "react";

export interface Viewport {
  top: number;
  height: number;
  /** What `measure` read of the list (0 without one): the tail's characters per line. */
  extra: number;
}

/** The viewport of `scroller`, updated on scroll and resize; `measure` (reading only the
 * element) is read with it. */
export function useViewport(scroller: RefObject<HTMLElement | null>, measure?: (el: HTMLElement) => number): Viewport {
  const [port, setPort] = useState<Viewport>({ top: 0, height: 0, extra: 0 });
  useEffect(() => {
    const el = scroller.current;
    if (!el) return;
    const read = () => {
      const extra = measure ? measure(el) : 0;
      setPort((p) => (p.top === el.scrollTop && p.height === el.clientHeight && p.extra === extra ? p : { top: el.scrollTop, height: el.clientHeight, extra }));
    };
    read();
    el.addEventListener("scroll", read, { passive: true });
    const observer = new ResizeObserver(read);
    observer.observe(el);
    return () => {
      el.removeEventListener("scroll", read);
      observer.disconnect();
    };
    // The first `measure` given is kept (it must read only the element): a new function each
    // render must not subscribe again.
  }, [scroller]);
  return port;
}
