import { describe, expect, it } from "vitest";
import { Coalescer } from "./coalesce";

type Flags = { logs: boolean; spans: boolean };
const or = (a: Flags, b: Flags): Flags => ({ logs: a.logs || b.logs, spans: a.spans || b.spans });

/** A refresh that waits until the test lets it finish. */
function gated() {
  const calls: Flags[] = [];
  const gates: Array<() => void> = [];
  let inFlight = 0;
  let maxInFlight = 0;
  const run = (what: Flags) =>
    new Promise<void>((resolve) => {
      calls.push(what);
      inFlight++;
      maxInFlight = Math.max(maxInFlight, inFlight);
      gates.push(() => {
        inFlight--;
        resolve();
      });
    });
  const finish = async () => {
    const g = gates.shift();
    g?.();
    // Let the coalescer see the end and start the next one.
    await Promise.resolve();
    await Promise.resolve();
  };
  return { calls, run, finish, max: () => maxInFlight };
}

describe("Coalescer", () => {
  it("runs a request at once when idle", async () => {
    const g = gated();
    const c = new Coalescer(g.run, or);
    c.request({ logs: true, spans: false });
    expect(g.calls).toEqual([{ logs: true, spans: false }]);
    expect(c.busy).toBe(true);
    await g.finish();
    await c.idle();
    expect(c.busy).toBe(false);
  });

  it("folds every request made during a refresh into exactly one more, with the union of what changed", async () => {
    const g = gated();
    const c = new Coalescer(g.run, or);
    c.request({ logs: true, spans: false });
    for (let i = 0; i < 10; i++) c.request({ logs: false, spans: i === 5 });
    expect(g.calls.length).toBe(1);
    await g.finish();
    expect(g.calls).toEqual([
      { logs: true, spans: false },
      { logs: false, spans: true },
    ]);
    await g.finish();
    await c.idle();
    expect(g.calls.length).toBe(2);
    expect(g.max()).toBe(1);
  });

  it("does nothing more when no request came during the refresh", async () => {
    const g = gated();
    const c = new Coalescer(g.run, or);
    c.request({ logs: true, spans: true });
    await g.finish();
    await c.idle();
    expect(g.calls.length).toBe(1);
  });

  it("keeps going after a refresh fails, and reports the failure", async () => {
    const errors: unknown[] = [];
    let n = 0;
    const c = new Coalescer<Flags>(
      async () => {
        n++;
        if (n === 1) throw new Error("engine gone");
      },
      or,
      (e) => errors.push(e),
    );
    c.request({ logs: true, spans: false });
    c.request({ logs: true, spans: false });
    await c.idle();
    expect(n).toBe(2);
    expect(errors).toHaveLength(1);
  });

  it("drops a request that has not started", async () => {
    const g = gated();
    const c = new Coalescer(g.run, or);
    c.request({ logs: true, spans: false });
    c.request({ logs: false, spans: true });
    c.drop();
    await g.finish();
    await c.idle();
    expect(g.calls.length).toBe(1);
  });
});
