import { afterEach, beforeEach, describe, expect, it, vi } from "vitest";
import { Poll } from "./poll";

beforeEach(() => {
  vi.useFakeTimers();
});

afterEach(() => {
  vi.useRealTimers();
});

describe("Poll", () => {
  it("runs at once, then on every tick while anyone watches", () => {
    const run = vi.fn();
    const poll = new Poll(run, 1000);
    const stopA = poll.watch();
    const stopB = poll.watch();
    expect(run).toHaveBeenCalledTimes(1);
    expect(poll.watched).toBe(true);
    vi.advanceTimersByTime(2500);
    expect(run).toHaveBeenCalledTimes(3);
    stopA();
    stopA();
    vi.advanceTimersByTime(1000);
    expect(run).toHaveBeenCalledTimes(4);
    stopB();
    expect(poll.watched).toBe(false);
    vi.advanceTimersByTime(5000);
    expect(run).toHaveBeenCalledTimes(4);
  });

  it("starts again after everyone stopped", () => {
    const run = vi.fn();
    const poll = new Poll(run, 1000);
    poll.watch()();
    poll.watch();
    expect(run).toHaveBeenCalledTimes(2);
    vi.advanceTimersByTime(1000);
    expect(run).toHaveBeenCalledTimes(3);
  });
});
