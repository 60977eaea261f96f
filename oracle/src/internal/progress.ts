/**
 * Terminal progress for the `verity` CLI: permanent step lines, spinners and progress bars for the slow steps
 * (deploying, storing program chunks, waiting for a request to settle, disputing).
 *
 * It draws on stderr (or an injected stream) and only when that stream is a terminal and the command output is not
 * JSON: with `--json`, in CI or behind a pipe every method is a no-op that writes nothing at all.
 *
 * At most one element (spinner or bar) is live at a time. The live line is redrawn in place with `\r` and an
 * erase-line escape and kept within `columns - 1` characters, so it never wraps; permanent lines (steps, ✔ and ✖
 * results) are printed above it. Widths are counted in code points: double-width characters may still wrap.
 */

/** Where progress is drawn: `process.stderr` or anything shaped like it. */
export interface ProgressStream {
    /** Nothing is drawn unless this is exactly true. */
    isTTY?: boolean;
    /** Terminal width; 80 when unknown. */
    columns?: number;
    /** Receives the text and escape codes. */
    write(chunk: string): boolean | void;
}

/** The interval clock driving spinner redraws; injectable so tests can fire it by hand. */
export interface ProgressTimer {
    /** Calls `fn` every `ms` milliseconds until cleared; returns a handle for clearInterval. */
    setInterval(fn: () => void, ms: number): unknown;
    /** Stops the interval behind `handle`. */
    clearInterval(handle: unknown): void;
}

/** Options for {@link createProgress}. */
export interface ProgressOptions {
    /** Where to draw; default `process.stderr`. */
    stream?: ProgressStream;
    /** Default true; false (e.g. `--json`) makes it silent. Effective only if `stream.isTTY === true`. */
    enabled?: boolean;
    /** Spinner redraw period in ms, default 80. */
    intervalMs?: number;
    /** Millisecond clock for elapsed times, default `Date.now`. */
    now?: () => number;
    /** Default: the global setInterval/clearInterval, with the handle unref()'d so it never keeps the process alive. */
    timer?: ProgressTimer;
}

/** A live spinner line. After succeed, fail or stop every call is a no-op. */
export interface Spinner {
    /** Replaces the text and redraws. */
    update(text: string): void;
    /** Ends with the permanent line `✔ text (Ns)` (elapsed shown from 1 s); `text` defaults to the current one. */
    succeed(text?: string): void;
    /** Ends with the permanent line `✖ text`; `text` defaults to the current one. */
    fail(text?: string): void;
    /** Ends by clearing the line, leaving nothing behind. */
    stop(): void;
}

/** A live progress bar `[#####-----] 3/8 text`. After done or fail every call is a no-op. */
export interface Bar {
    /** Advances by `n` (default 1), clamped to [0, total], and redraws. */
    tick(n?: number): void;
    /** Sets the count (clamped to [0, total], fractions floored, NaN ignored) and optionally the text; redraws. */
    update(done: number, text?: string): void;
    /** Ends with the permanent line `✔ text (Ns)` (elapsed shown from 1 s); `text` defaults to the current one. */
    done(text?: string): void;
    /** Ends with the permanent line `✖ text`; `text` defaults to the current one. */
    fail(text?: string): void;
}

/** Progress output for one CLI command. */
export interface Progress {
    /** True when it draws (the stream is a TTY and it is enabled). */
    readonly active: boolean;
    /** Prints the permanent line `… text`, above the live element if there is one. */
    step(text: string): void;
    /** Starts a spinner; a live spinner or bar is first ended, leaving its text as a `… text` line. */
    spinner(text: string): Spinner;
    /**
     * Starts a bar counting to `total` (an integer >= 0, else RangeError); a live spinner or bar is first ended,
     * leaving its text as a `… text` line.
     */
    bar(text: string, total: number): Bar;
    /**
     * Runs `work` under a spinner: succeed when it resolves, fail when it rejects, rethrowing the same error. If `work`
     * starts its own spinner or bar, that ends this one (as a `… text` line) and the final ✔/✖ line is skipped.
     */
    task<T>(text: string, work: () => Promise<T>): Promise<T>;
}

/** Returns to column 0 and erases the line. */
const ERASE_LINE = "\r\x1b[2K";
const SPINNER_FRAMES = "⠋⠙⠹⠸⠼⠴⠦⠧⠇⠏";
const ELLIPSIS = "…";
const DEFAULT_INTERVAL_MS = 80;
const DEFAULT_COLUMNS = 80;
/** Bar width when the terminal is wide enough. */
const BAR_WIDTH = 20;
/** Narrowest bar kept for the sake of the text. */
const MIN_BAR_WIDTH = 5;
/** Characters of text a narrow terminal keeps before the bar itself shrinks. */
const BAR_TEXT_RESERVE = 16;

const DEFAULT_TIMER: ProgressTimer = {
    setInterval(fn, ms) {
        const handle = setInterval(fn, ms);
        handle.unref();
        return handle;
    },
    clearInterval(handle) {
        clearInterval(handle as NodeJS.Timeout);
    },
};

/** `text` cut to at most `room` code points, ending with "…" (after no trailing space) when cut. */
function fit(text: string, room: number): string {
    const chars = Array.from(text);
    if (chars.length <= room) return text;
    if (room <= 0) return "";
    return (
        chars
            .slice(0, room - 1)
            .join("")
            .trimEnd() + ELLIPSIS
    );
}

/** Length in code points. */
function width(text: string): number {
    return Array.from(text).length;
}

/** Line breaks and tabs would break the in-place redraw. */
function oneLine(text: string): string {
    return text.replace(/[\r\n\t]+/g, " ");
}

/** ` (Ns)` in whole seconds once at least one has passed, else "". */
function elapsedSuffix(ms: number): string {
    const seconds = Math.floor(ms / 1000);
    return seconds >= 1 ? ` (${seconds}s)` : "";
}

/** A spinner or bar while it may be the live element. */
interface LiveElement {
    /** The line to draw, at most `maxWidth` code points. */
    render(maxWidth: number): string;
    /** Ends it because another element took over; returns the text for its `… text` line. */
    supersede(): string;
}

/** Owns the stream and the single live element. */
class Screen {
    #live: LiveElement | undefined;

    constructor(
        readonly stream: ProgressStream,
        readonly timer: ProgressTimer,
        readonly now: () => number,
        readonly intervalMs: number,
    ) {}

    /** Widest live line: one less than the terminal width, so the cursor never wraps. */
    get maxWidth(): number {
        const columns = this.stream.columns;
        const usable = typeof columns === "number" && Number.isFinite(columns) && columns >= 1;
        return Math.max(1, (usable ? Math.floor(columns) : DEFAULT_COLUMNS) - 1);
    }

    /** Makes `element` the live one, ending the previous one, and draws it. */
    attach(element: LiveElement): void {
        const previous = this.#live;
        this.#live = element;
        const ended = previous === undefined ? "" : `${ERASE_LINE}… ${previous.supersede()}\n`;
        this.stream.write(`${ended}${ERASE_LINE}${element.render(this.maxWidth)}`);
    }

    /** Redraws `element` if it is still live. */
    redraw(element: LiveElement): void {
        if (this.#live === element) this.stream.write(`${ERASE_LINE}${element.render(this.maxWidth)}`);
    }

    /** Clears the line of `element` if it is still live, leaving `permanent` (a whole line, or "") in its place. */
    release(element: LiveElement, permanent: string): void {
        if (this.#live !== element) return;
        this.#live = undefined;
        this.stream.write(`${ERASE_LINE}${permanent}`);
    }

    /** Prints a permanent line, redrawing the live element after it. */
    step(text: string): void {
        const live = this.#live;
        if (live === undefined) this.stream.write(`… ${text}\n`);
        else this.stream.write(`${ERASE_LINE}… ${text}\n${ERASE_LINE}${live.render(this.maxWidth)}`);
    }
}

class LiveSpinner implements Spinner, LiveElement {
    readonly #screen: Screen;
    readonly #started: number;
    readonly #handle: unknown;
    #text: string;
    #frame = 0;
    #finished = false;

    constructor(screen: Screen, text: string) {
        this.#screen = screen;
        this.#text = text;
        this.#started = screen.now();
        screen.attach(this);
        this.#handle = screen.timer.setInterval(() => this.#advance(), screen.intervalMs);
    }

    render(maxWidth: number): string {
        const suffix = elapsedSuffix(this.#screen.now() - this.#started);
        const text = fit(oneLine(this.#text), maxWidth - 2 - suffix.length);
        return fit(`${SPINNER_FRAMES.charAt(this.#frame)} ${text}${suffix}`, maxWidth);
    }

    supersede(): string {
        this.#end();
        return this.#text;
    }

    update(text: string): void {
        if (this.#finished) return;
        this.#text = text;
        this.#screen.redraw(this);
    }

    succeed(text?: string): void {
        if (this.#finished) return;
        const suffix = elapsedSuffix(this.#screen.now() - this.#started);
        this.#end();
        this.#screen.release(this, `✔ ${text ?? this.#text}${suffix}\n`);
    }

    fail(text?: string): void {
        if (this.#finished) return;
        this.#end();
        this.#screen.release(this, `✖ ${text ?? this.#text}\n`);
    }

    stop(): void {
        if (this.#finished) return;
        this.#end();
        this.#screen.release(this, "");
    }

    #advance(): void {
        if (this.#finished) return;
        this.#frame = (this.#frame + 1) % SPINNER_FRAMES.length;
        this.#screen.redraw(this);
    }

    #end(): void {
        this.#finished = true;
        this.#screen.timer.clearInterval(this.#handle);
    }
}

class LiveBar implements Bar, LiveElement {
    readonly #screen: Screen;
    readonly #total: number;
    readonly #started: number;
    #text: string;
    #done = 0;
    #finished = false;

    constructor(screen: Screen, text: string, total: number) {
        this.#screen = screen;
        this.#text = text;
        this.#total = total;
        this.#started = screen.now();
        screen.attach(this);
    }

    render(maxWidth: number): string {
        const text = oneLine(this.#text);
        const counter = `${this.#done}/${this.#total}`;
        // Sized for the widest count, so the bar does not jump as the count grows.
        const counterWidth = 2 * String(this.#total).length + 1;
        const textReserve = text === "" ? 0 : 1 + Math.min(width(text), BAR_TEXT_RESERVE);
        // The bar gives way to the text down to MIN_BAR_WIDTH, and below that to the count.
        const room = maxWidth - 3 - counterWidth;
        const barWidth = Math.max(1, Math.min(room, Math.max(MIN_BAR_WIDTH, Math.min(BAR_WIDTH, room - textReserve))));
        const filled = this.#total === 0 ? barWidth : Math.floor((this.#done * barWidth) / this.#total);
        let line = `[${"#".repeat(filled)}${"-".repeat(barWidth - filled)}] ${counter}`;
        const textRoom = maxWidth - width(line) - 1;
        if (text !== "" && textRoom > 0) line += ` ${fit(text, textRoom)}`;
        return fit(line, maxWidth);
    }

    supersede(): string {
        this.#finished = true;
        return this.#text;
    }

    tick(n = 1): void {
        if (this.#finished) return;
        this.update(this.#done + n);
    }

    update(done: number, text?: string): void {
        if (this.#finished) return;
        if (!Number.isNaN(done)) this.#done = Math.min(this.#total, Math.max(0, Math.floor(done)));
        if (text !== undefined) this.#text = text;
        this.#screen.redraw(this);
    }

    done(text?: string): void {
        if (this.#finished) return;
        this.#finished = true;
        const suffix = elapsedSuffix(this.#screen.now() - this.#started);
        this.#screen.release(this, `✔ ${text ?? this.#text}${suffix}\n`);
    }

    fail(text?: string): void {
        if (this.#finished) return;
        this.#finished = true;
        this.#screen.release(this, `✖ ${text ?? this.#text}\n`);
    }
}

class TerminalProgress implements Progress {
    readonly active = true;
    readonly #screen: Screen;

    constructor(screen: Screen) {
        this.#screen = screen;
    }

    step(text: string): void {
        this.#screen.step(text);
    }

    spinner(text: string): Spinner {
        return new LiveSpinner(this.#screen, text);
    }

    bar(text: string, total: number): Bar {
        checkTotal(total);
        return new LiveBar(this.#screen, text, total);
    }

    async task<T>(text: string, work: () => Promise<T>): Promise<T> {
        const spinner = this.spinner(text);
        let result: T;
        try {
            result = await work();
        } catch (error) {
            spinner.fail();
            throw error;
        }
        spinner.succeed();
        return result;
    }
}

const SILENT_SPINNER: Spinner = { update() {}, succeed() {}, fail() {}, stop() {} };
const SILENT_BAR: Bar = { tick() {}, update() {}, done() {}, fail() {} };

const SILENT_PROGRESS: Progress = {
    active: false,
    step() {},
    spinner: () => SILENT_SPINNER,
    bar(_text, total) {
        checkTotal(total);
        return SILENT_BAR;
    },
    async task(_text, work) {
        return await work();
    },
};

/** A bar total must be a whole count, checked even when silent so a bad caller fails in CI too. */
function checkTotal(total: number): void {
    if (!Number.isInteger(total) || total < 0) {
        throw new RangeError(`progress bar: total must be an integer >= 0, got ${total}`);
    }
}

/**
 * Progress output drawn on `options.stream` (default stderr) when it is a TTY and `options.enabled` is not false;
 * otherwise a silent implementation that writes nothing (pass `enabled: !opts.json`).
 */
export function createProgress(options: ProgressOptions = {}): Progress {
    const intervalMs = options.intervalMs ?? DEFAULT_INTERVAL_MS;
    if (!Number.isFinite(intervalMs) || intervalMs <= 0) {
        throw new RangeError(`progress: intervalMs must be a positive number, got ${intervalMs}`);
    }
    const stream = options.stream ?? process.stderr;
    if (options.enabled === false || stream.isTTY !== true) return SILENT_PROGRESS;
    return new TerminalProgress(
        new Screen(stream, options.timer ?? DEFAULT_TIMER, options.now ?? Date.now, intervalMs),
    );
}
