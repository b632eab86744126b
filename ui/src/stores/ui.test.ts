import { describe, expect, it } from "vitest";
import { describeError } from "./ui";

describe("describeError", () => {
  it("branches on the code, never on the message", () => {
    // The same words in the message change nothing: only the code decides.
    expect(describeError({ code: "unreachable", message: "the server did not answer" })).toBe(
      "Cannot reach the instance — the server did not answer",
    );
    expect(describeError({ code: "timeout", message: "no answer within 10 s" })).toBe("Timed out — no answer within 10 s");
    expect(describeError({ code: "untrusted", message: "unknown issuer" })).toBe("Untrusted certificate — unknown issuer");
  });
});
