/**
 * The demo's output: event lines as things happen, a status line redrawn under them on a terminal (plain lines
 * only when stdout is not a TTY), and tables.
 */
import { formatUnits } from "ethers";

/** A token amount: at least 2 and at most 4 decimals. */
export function vtt(wei: bigint): string {
    const [whole, frac = ""] = formatUnits(wei, 18).split(".");
    const digits = frac
        .padEnd(4, "0")
        .slice(0, 4)
        .replace(/0{1,2}$/, "");
    return `${whole}.${digits.padEnd(2, "0")} VTT`;
}

/** A request id (a hash-like uint256) in short hex. */
export function shortId(id: bigint): string {
    return `0x${id.toString(16).padStart(64, "0").slice(0, 8)}…`;
}

export function gas(n: number | bigint): string {
    return Math.round(Number(n)).toLocaleString("en-US");
}

const COLOURS = { red: 31, green: 32, yellow: 33, blue: 34, magenta: 35, cyan: 36, dim: 2, bold: 1 } as const;
export type Colour = keyof typeof COLOURS;

export class Display {
    private readonly tty: boolean;
    private readonly started = Date.now();
    private status = "";

    constructor(private readonly out: NodeJS.WriteStream = process.stdout) {
        this.tty = out.isTTY === true && process.env.NO_COLOR === undefined;
    }

    paint(text: string, colour: Colour): string {
        return this.tty ? `\x1b[${COLOURS[colour]}m${text}\x1b[0m` : text;
    }

    elapsed(): string {
        return `${((Date.now() - this.started) / 1000).toFixed(1)}s`;
    }

    /** One event line, stamped with the time since start. */
    event(text: string): void {
        this.write(`${this.paint(`[${this.elapsed().padStart(6)}]`, "dim")} ${text}`);
    }

    /** A line without a time stamp. */
    line(text = ""): void {
        this.write(text);
    }

    /** The status line shown under the events on a terminal (ignored otherwise). */
    setStatus(text: string): void {
        if (!this.tty) return;
        this.status = text;
        this.out.write(`\r\x1b[2K${this.paint(text, "bold")}`);
    }

    clearStatus(): void {
        if (!this.tty || this.status === "") return;
        this.out.write("\r\x1b[2K");
        this.status = "";
    }

    table(headers: string[], rows: string[][], align: ("l" | "r")[] = []): void {
        const widths = headers.map((h, i) => Math.max(h.length, ...rows.map((r) => (r[i] ?? "").length)));
        const fmt = (cells: string[]) =>
            cells
                .map((c, i) => (align[i] === "r" ? c.padStart(widths[i]!) : c.padEnd(widths[i]!)))
                .join("  ")
                .trimEnd();
        this.line(fmt(headers));
        this.line(widths.map((w) => "-".repeat(w)).join("  "));
        for (const row of rows) this.line(fmt(row));
    }

    private write(text: string): void {
        if (this.tty && this.status !== "") {
            this.out.write(`\r\x1b[2K${text}\n${this.paint(this.status, "bold")}`);
        } else {
            this.out.write(`${text}\n`);
        }
    }
}
