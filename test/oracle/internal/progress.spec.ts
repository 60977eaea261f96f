import { expect } from "chai";
import {
    createProgress,
    type Progress,
    type ProgressOptions,
    type ProgressStream,
    type ProgressTimer,
} from "../../../oracle/src/internal/progress";

const ERASE = "\r\x1b[2K";
const FRAMES = Array.from("⠋⠙⠹⠸⠼⠴⠦⠧⠇⠏");

/** A stream that keeps every write. */
class FakeStream implements ProgressStream {
    readonly chunks: string[] = [];
    #seen = 0;

    constructor(
        public isTTY?: boolean,
        public columns?: number,
    ) {}

    write(chunk: string): boolean {
        this.chunks.push(chunk);
        return true;
    }

    /** Everything written so far. */
    get output(): string {
        return this.chunks.join("");
    }

    /** What was written since the last call. */
    fresh(): string {
        const out = this.chunks.slice(this.#seen).join("");
        this.#seen = this.chunks.length;
        return out;
    }
}

/** A timer that records intervals and fires them on demand. */
class FakeTimer implements ProgressTimer {
    readonly #active = new Map<number, { fn: () => void; ms: number }>();
    #next = 1;
    created = 0;

    setInterval(fn: () => void, ms: number): unknown {
        const handle = this.#next++;
        this.created++;
        this.#active.set(handle, { fn, ms });
        return handle;
    }

    clearInterval(handle: unknown): void {
        this.#active.delete(handle as number);
    }

    /** Handles still registered. */
    get active(): number {
        return this.#active.size;
    }

    /** Periods of the registered intervals. */
    get periods(): number[] {
        return [...this.#active.values()].map((entry) => entry.ms);
    }

    /** Fires every registered interval `times` times. */
    fire(times = 1): void {
        for (let i = 0; i < times; i++) for (const { fn } of [...this.#active.values()]) fn();
    }
}

/** What a terminal shows after `output`: finished lines, then the line under the cursor. */
function screen(output: string): string[] {
    const lines: string[] = [];
    let current = "";
    let column = 0;
    for (let i = 0; i < output.length;) {
        if (output.startsWith("\x1b[2K", i)) {
            current = "";
            i += 4;
            continue;
        }
        const char = String.fromCodePoint(output.codePointAt(i) ?? 0);
        i += char.length;
        if (char === "\r") {
            column = 0;
        } else if (char === "\n") {
            lines.push(current);
            current = "";
            column = 0;
        } else {
            const chars = Array.from(current);
            chars[column] = char;
            current = chars.join("");
            column++;
        }
    }
    return [...lines, current];
}

/** A TTY progress with a fake stream, timer and clock. */
function tty(options: ProgressOptions & { columns?: number } = {}) {
    const stream = new FakeStream(true, options.columns);
    const timer = new FakeTimer();
    const clock = { ms: 1_000_000 };
    const progress = createProgress({ stream, timer, now: () => clock.ms, ...options });
    return { progress, stream, timer, clock };
}

/** Calls every method of `progress` and of its spinners and bars, awaiting tasks that resolve and reject. */
async function exerciseEverything(progress: Progress): Promise<void> {
    progress.step("a step");
    const spinner = progress.spinner("spinning");
    spinner.update("still spinning");
    spinner.succeed();
    spinner.succeed("again");
    progress.spinner("b").fail("nope");
    progress.spinner("c").stop();
    const bar = progress.bar("storing", 8);
    bar.tick();
    bar.tick(3);
    bar.update(6, "almost");
    bar.done();
    progress.bar("x", 2).fail("bad");
    expect(await progress.task("working", async () => 42)).to.equal(42);
    const boom = new Error("boom");
    let caught: unknown;
    try {
        await progress.task("failing", async () => {
            throw boom;
        });
    } catch (error) {
        caught = error;
    }
    expect(caught).to.equal(boom);
}

describe("oracle/internal/progress", function () {
    describe("when it must stay silent", function () {
        const cases: [string, boolean | undefined, boolean | undefined][] = [
            ["stderr is not a TTY", false, undefined],
            ["isTTY is undefined (a pipe)", undefined, undefined],
            ["enabled is false (--json) on a TTY", true, false],
            ["enabled is true but the stream is not a TTY", false, true],
        ];
        for (const [name, isTTY, enabled] of cases) {
            it(`writes nothing and starts no timer when ${name}`, async function () {
                const stream = new FakeStream(isTTY, 80);
                const timer = new FakeTimer();
                const progress = createProgress({ stream, timer, enabled, now: () => 0 });
                expect(progress.active).to.be.false;
                await exerciseEverything(progress);
                expect(stream.chunks).to.deep.equal([]);
                expect(timer.created).to.equal(0);
            });
        }

        it("still rejects a bad bar total", function () {
            const progress = createProgress({ stream: new FakeStream(false) });
            expect(() => progress.bar("x", -1)).to.throw(RangeError);
            expect(() => progress.bar("x", 1.5)).to.throw(RangeError);
        });
    });

    describe("on a TTY", function () {
        it("is active, and a step with nothing live is a plain `… text` line", function () {
            const { progress, stream } = tty();
            expect(progress.active).to.be.true;
            progress.step("compiling");
            expect(stream.output).to.equal("… compiling\n");
        });

        it("draws the first spinner frame at once and registers one interval at intervalMs", function () {
            const { progress, stream, timer } = tty();
            progress.spinner("deploying");
            expect(stream.output).to.equal(`${ERASE}${FRAMES[0]} deploying`);
            expect(timer.periods).to.deep.equal([80]);

            const custom = tty({ intervalMs: 250 });
            custom.progress.spinner("x");
            expect(custom.timer.periods).to.deep.equal([250]);
        });

        it("advances the spinner frame each time the timer fires, wrapping after the last", function () {
            const { progress, stream, timer } = tty();
            progress.spinner("waiting");
            stream.fresh();
            for (let i = 1; i <= FRAMES.length + 1; i++) {
                timer.fire();
                expect(stream.fresh()).to.equal(`${ERASE}${FRAMES[i % FRAMES.length]} waiting`);
            }
        });

        it("shows the elapsed whole seconds from 1 s on, using the injected clock", function () {
            const { progress, stream, timer, clock } = tty();
            progress.spinner("settling");
            clock.ms += 999;
            timer.fire();
            expect(stream.fresh()).to.match(/settling$/);
            clock.ms += 1;
            timer.fire();
            expect(stream.fresh()).to.match(/settling \(1s\)$/);
            clock.ms += 11_500;
            timer.fire();
            expect(stream.fresh()).to.equal(`${ERASE}${FRAMES[3]} settling (12s)`);
        });

        it("update() redraws with the new text", function () {
            const { progress, stream } = tty();
            const spinner = progress.spinner("one");
            stream.fresh();
            spinner.update("two");
            expect(stream.fresh()).to.equal(`${ERASE}${FRAMES[0]} two`);
        });

        it("succeed() leaves `✔ text (Ns)` on its own line and stops the interval", function () {
            const { progress, stream, timer, clock } = tty();
            const spinner = progress.spinner("deploying");
            clock.ms += 3_400;
            spinner.succeed("deployed");
            expect(stream.output.endsWith(`${ERASE}✔ deployed (3s)\n`)).to.be.true;
            expect(screen(stream.output)).to.deep.equal(["✔ deployed (3s)", ""]);
            expect(timer.active).to.equal(0);
        });

        it("succeed() without text keeps the latest text, and omits the time under 1 s", function () {
            const { progress, stream } = tty();
            const spinner = progress.spinner("first");
            spinner.update("second");
            spinner.succeed();
            expect(screen(stream.output)).to.deep.equal(["✔ second", ""]);
        });

        it("fail() leaves `✖ text`, stop() leaves nothing, both stop the interval", function () {
            const failing = tty();
            failing.clock.ms += 5_000;
            const spinner = failing.progress.spinner("registering");
            failing.clock.ms += 2_000;
            spinner.fail("registration reverted");
            expect(failing.stream.output.endsWith(`${ERASE}✖ registration reverted\n`)).to.be.true;
            expect(screen(failing.stream.output)).to.deep.equal(["✖ registration reverted", ""]);
            expect(failing.timer.active).to.equal(0);

            const stopping = tty();
            stopping.progress.spinner("polling").stop();
            expect(screen(stopping.stream.output)).to.deep.equal([""]);
            expect(stopping.stream.chunks.at(-1)).to.equal(ERASE);
            expect(stopping.timer.active).to.equal(0);
        });

        it("ignores every call on a finished spinner", function () {
            for (const finish of ["succeed", "fail", "stop"] as const) {
                const { progress, stream } = tty();
                const spinner = progress.spinner("x");
                spinner[finish]();
                const before = stream.output;
                expect(() => {
                    spinner.update("y");
                    spinner.succeed("y");
                    spinner.fail("y");
                    spinner.stop();
                }).not.to.throw();
                expect(stream.output).to.equal(before);
            }
        });

        it("a spinner callback fired after finishing draws nothing", function () {
            // A timer may still run a callback it had already queued when clearInterval came.
            const stream = new FakeStream(true);
            let callback: (() => void) | undefined;
            const timer: ProgressTimer = {
                setInterval: (fn) => {
                    callback = fn;
                    return 1;
                },
                clearInterval: () => {},
            };
            const spinner = createProgress({ stream, timer }).spinner("x");
            spinner.stop();
            const before = stream.output;
            callback?.();
            expect(stream.output).to.equal(before);
        });

        it("truncates a long spinner text with … so the line stays within columns - 1", function () {
            const { progress, stream, timer, clock } = tty({ columns: 30 });
            progress.spinner("storing the compiled program chunks on chain");
            const first = screen(stream.output).at(-1) ?? "";
            expect(Array.from(first)).to.have.length(29);
            expect(first).to.equal(`${FRAMES[0]} storing the compiled progr…`);
            clock.ms += 65_000;
            timer.fire();
            const later = screen(stream.output).at(-1) ?? "";
            expect(Array.from(later)).to.have.length(29);
            expect(later).to.match(/… \(65s\)$/);
        });
    });

    describe("bar", function () {
        it("draws empty at 0, partly filled, and full at total", function () {
            const { progress, stream } = tty();
            const bar = progress.bar("chunks", 8);
            expect(stream.fresh()).to.equal(`${ERASE}[--------------------] 0/8 chunks`);
            bar.tick(3);
            expect(stream.fresh()).to.equal(`${ERASE}[#######-------------] 3/8 chunks`);
            bar.update(4, "halfway");
            expect(stream.fresh()).to.equal(`${ERASE}[##########----------] 4/8 halfway`);
            bar.tick();
            bar.tick();
            bar.tick();
            bar.tick();
            expect(stream.chunks.at(-1)).to.equal(`${ERASE}[####################] 8/8 halfway`);
        });

        it("clamps the count to [0, total] and floors fractions", function () {
            const { progress, stream } = tty();
            const bar = progress.bar("x", 5);
            bar.update(-3);
            expect(stream.chunks.at(-1)).to.contain("] 0/5 x");
            bar.update(99);
            expect(stream.chunks.at(-1)).to.contain("[####################] 5/5 x");
            bar.tick(10);
            expect(stream.chunks.at(-1)).to.contain("] 5/5 x");
            bar.tick(-2);
            expect(stream.chunks.at(-1)).to.contain("] 3/5 x");
            bar.update(2.9);
            expect(stream.chunks.at(-1)).to.contain("] 2/5 x");
            bar.update(Number.NaN);
            expect(stream.chunks.at(-1)).to.contain("] 2/5 x");
        });

        it("shows a zero total as complete", function () {
            const { progress, stream } = tty();
            progress.bar("nothing to store", 0);
            expect(stream.output).to.equal(`${ERASE}[####################] 0/0 nothing to store`);
        });

        it("fits the columns: shrinks the bar, truncates the text with …, never exceeds columns - 1", function () {
            const text = "storing program chunks for model 0x1234abcd on the local chain";
            const expected: [number, string][] = [
                [80, `[#########-----------] 57/120 ${text.slice(0, 48)}…`],
                [40, "[#####-------] 57/120 storing program…"],
                [24, "[##---] 57/120 storing…"],
                [12, "[-] 57/120"],
                [6, "[-]…"],
                [2, "…"],
            ];
            for (const [columns, line] of expected) {
                const { progress, stream } = tty({ columns });
                progress.bar(text, 120).update(57);
                const shown = screen(stream.output).at(-1) ?? "";
                expect(shown, `columns ${columns}`).to.equal(line);
                expect(Array.from(shown).length, `columns ${columns}`).to.be.at.most(columns - 1);
            }
        });

        it("uses 80 columns when the stream does not say", function () {
            const { progress, stream } = tty();
            progress.bar("y".repeat(200), 3);
            expect(Array.from(screen(stream.output).at(-1) ?? "")).to.have.length(79);
        });

        it("done() leaves `✔ text (Ns)`, fail() leaves `✖ text`, later calls are no-ops", function () {
            const { progress, stream, clock } = tty();
            const bar = progress.bar("storing", 4);
            bar.tick(4);
            clock.ms += 2_000;
            bar.done("stored 4 chunks");
            const failed = progress.bar("storing more", 4);
            failed.tick();
            failed.fail();
            const before = stream.output;
            bar.tick();
            bar.update(1, "again");
            bar.done();
            failed.fail("again");
            failed.done();
            expect(stream.output).to.equal(before);
            expect(screen(stream.output)).to.deep.equal(["✔ stored 4 chunks (2s)", "✖ storing more", ""]);
        });

        it("starts no timer", function () {
            const { progress, timer } = tty();
            progress.bar("x", 3).tick();
            expect(timer.created).to.equal(0);
        });
    });

    describe("one live element at a time", function () {
        it("step() while a spinner is live prints the step above it and keeps the spinner drawing", function () {
            const { progress, stream, timer } = tty();
            const spinner = progress.spinner("waiting for the result");
            timer.fire();
            stream.fresh();
            progress.step("request 7 sent");
            expect(stream.fresh()).to.equal(`${ERASE}… request 7 sent\n${ERASE}${FRAMES[1]} waiting for the result`);
            timer.fire();
            expect(screen(stream.output)).to.deep.equal(["… request 7 sent", `${FRAMES[2]} waiting for the result`]);
            spinner.succeed("settled");
            expect(screen(stream.output)).to.deep.equal(["… request 7 sent", "✔ settled", ""]);
        });

        it("step() while a bar is live keeps the bar after the step line", function () {
            const { progress, stream } = tty();
            progress.bar("chunks", 2).tick();
            progress.step("chunk 1 stored");
            expect(screen(stream.output)).to.deep.equal(["… chunk 1 stored", "[##########----------] 1/2 chunks"]);
        });

        it("a new spinner ends the live one as a `… text` line, clears its interval, and makes it inert", function () {
            const { progress, stream, timer } = tty();
            const first = progress.spinner("compiling");
            const second = progress.spinner("deploying");
            expect(timer.active).to.equal(1);
            expect(screen(stream.output)).to.deep.equal(["… compiling", `${FRAMES[0]} deploying`]);
            const before = stream.output;
            first.update("changed");
            first.succeed();
            first.stop();
            expect(stream.output).to.equal(before);
            second.succeed();
            expect(screen(stream.output)).to.deep.equal(["… compiling", "✔ deploying", ""]);
            expect(timer.active).to.equal(0);
        });

        it("a bar replaces a live spinner and a spinner replaces a live bar", function () {
            const { progress, stream, timer } = tty();
            progress.spinner("preparing");
            const bar = progress.bar("chunks", 2);
            expect(timer.active).to.equal(0);
            bar.tick();
            const spinner = progress.spinner("confirming");
            bar.tick();
            bar.done();
            spinner.stop();
            expect(screen(stream.output)).to.deep.equal(["… preparing", "… chunks", ""]);
            expect(timer.active).to.equal(0);
        });
    });

    describe("task", function () {
        it("returns the result, leaves ✔ and clears its interval", async function () {
            const { progress, stream, timer, clock } = tty();
            const result = await progress.task("deploying", async () => {
                expect(timer.active).to.equal(1);
                clock.ms += 4_200;
                return { address: "0xabc" };
            });
            expect(result).to.deep.equal({ address: "0xabc" });
            expect(screen(stream.output)).to.deep.equal(["✔ deploying (4s)", ""]);
            expect(timer.active).to.equal(0);
            expect(timer.created).to.equal(1);
        });

        it("rethrows the same error object, leaves ✖ and clears its interval", async function () {
            const { progress, stream, timer } = tty();
            const boom = new Error("reverted");
            let caught: unknown;
            try {
                await progress.task("disputing", () => Promise.reject(boom));
            } catch (error) {
                caught = error;
            }
            expect(caught).to.equal(boom);
            expect(screen(stream.output)).to.deep.equal(["✖ disputing", ""]);
            expect(timer.active).to.equal(0);
        });

        it("handles work that throws before returning a promise", async function () {
            const { progress, timer } = tty();
            const boom = new TypeError("sync");
            const promise = progress.task("x", () => {
                throw boom;
            });
            let caught: unknown;
            await promise.catch((error: unknown) => (caught = error));
            expect(caught).to.equal(boom);
            expect(timer.active).to.equal(0);
        });

        it("leaves no interval registered after any way of finishing", async function () {
            const { progress, timer } = tty();
            progress.spinner("a").succeed();
            progress.spinner("b").fail();
            progress.spinner("c").stop();
            progress.spinner("d");
            progress.spinner("e").stop(); // d was ended by e
            await progress.task("f", async () => 1);
            await progress.task("g", async () => Promise.reject(new Error("g"))).catch(() => undefined);
            expect(timer.created).to.equal(7);
            expect(timer.active).to.equal(0);
        });
    });

    describe("the default timer", function () {
        it("redraws on the real clock, does not hold the process open, and stops on finish", async function () {
            const stream = new FakeStream(true);
            const timers = (): number => process.getActiveResourcesInfo().filter((r) => r === "Timeout").length;
            const before = timers();
            const spinner = createProgress({ stream, intervalMs: 5 }).spinner("x");
            expect(timers()).to.equal(before); // unref()'d
            await new Promise((resolve) => setTimeout(resolve, 40));
            expect(stream.chunks.length).to.be.greaterThan(1);
            spinner.stop();
            const after = stream.chunks.length;
            await new Promise((resolve) => setTimeout(resolve, 30));
            expect(stream.chunks.length).to.equal(after);
        });
    });

    it("rejects a non-positive intervalMs", function () {
        expect(() => createProgress({ stream: new FakeStream(true), intervalMs: 0 })).to.throw(RangeError);
    });
});
