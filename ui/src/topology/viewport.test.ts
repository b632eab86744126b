import { describe, expect, it } from "vitest";
import { DETAIL_ZOOM, MIN_ZOOM, NAME_ZOOM, nodeDetail } from "./viewport";

const at = (zoom: number) => nodeDetail({ transform: [0, 0, zoom] });

describe("what a node shows at a zoom", () => {
  it("is its card zoomed in, its name zoomed out, its box where the name cannot be read", () => {
    expect(at(1)).toBe("card");
    expect(at(DETAIL_ZOOM)).toBe("card");
    expect(at(DETAIL_ZOOM - 0.01)).toBe("name");
    // 100 nodes fit the view at about 0.17: their names stay.
    expect(at(0.168)).toBe("name");
    expect(at(NAME_ZOOM)).toBe("name");
    expect(at(NAME_ZOOM - 0.01)).toBe("box");
    // 1,000 nodes fit at the smallest zoom.
    expect(at(MIN_ZOOM)).toBe("box");
  });
});
