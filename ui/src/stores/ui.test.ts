import { describe, expect, it } from "vitest";
import { describeError } from "./ui";

describe("describeError", () => {
  it("says a heading once: a server message that adds nothing to it is left out", () => {
    expect(describeError({ code: "unauthorized", message: "Login failed" })).toBe("Wrong user name or password");
    expect(describeError({ code: "unauthorized", message: "Invalid username or password" })).toBe("Wrong user name or password");
    expect(describeError({ code: "unauthorized", message: "token expired" })).toBe("Wrong user name or password — token expired");
    expect(describeError({ code: "not_found", message: "not found" })).toBe("Not found");
    expect(describeError({ code: "bad_request", message: "Login failed" })).toBe("Login failed");
    expect(describeError({ code: "unreachable", message: "cannot reach http://127.0.0.1:9: Connection refused" })).toBe("Cannot reach http://127.0.0.1:9: Connection refused");
  });

  it("branches on the code, never on the message", () => {
    // The same words in the message change nothing: only the code decides.
    expect(describeError({ code: "unreachable", message: "the server did not answer" })).toBe(
      "Cannot reach the instance — the server did not answer",
    );
    expect(describeError({ code: "timeout", message: "no answer within 10 s" })).toBe("Timed out — no answer within 10 s");
    expect(describeError({ code: "untrusted", message: "unknown issuer" })).toBe("Untrusted certificate — unknown issuer");
  });
});
