//! The live tail: pick an instance and channels, watch transactions arrive (virtualized list,
//! newest or oldest first), pause without losing any below the buffer's cap, filter, inspect
//! one in the detail pane, and export the session as NDJSON.
import { useState } from "react";
import { CompareView } from "./CompareView";
import { SingleTail } from "./SingleTail";

/** The tail page: one node, or one channel compared across nodes. */
export function TailView(props: { instance?: string; channels?: string[]; compare?: boolean }) {
  const [mode, setMode] = useState<"one" | "compare">(props.compare ? "compare" : "one");
  return (
    <div className="tail-page">
      <div className="tabs tail-tabs">
        <button className={mode === "one" ? "active" : ""} onClick={() => setMode("one")} data-testid="tail-mode-one">One node</button>
        <button className={mode === "compare" ? "active" : ""} onClick={() => setMode("compare")} data-testid="tail-mode-compare">Compare nodes</button>
      </div>
      {mode === "one" ? <SingleTail {...props} /> : <CompareView />}
    </div>
  );
}
