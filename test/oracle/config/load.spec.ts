import { expect } from "chai";
import { mkdtempSync, readFileSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { ConfigError, loadConfig, parseConfig } from "../../../oracle/src/config/load";

const EXAMPLE_PATH = join(__dirname, "../../../oracle/verity.config.example.json");
const example = (): Record<string, unknown> =>
    JSON.parse(readFileSync(EXAMPLE_PATH, "utf8")) as Record<string, unknown>;

/** The issues a ConfigError reports for `raw`. */
function issuesOf(raw: unknown, env: NodeJS.ProcessEnv = {}): readonly string[] {
    try {
        parseConfig(raw, env);
    } catch (error) {
        expect(error).to.be.instanceOf(ConfigError);
        expect((error as ConfigError).code).to.equal("INVALID_CONFIG");
        return (error as ConfigError).issues;
    }
    throw new Error("expected a ConfigError");
}

function withChain(change: Record<string, unknown>): Record<string, unknown> {
    const raw = example();
    return { ...raw, chain: { ...(raw.chain as Record<string, unknown>), ...change } };
}

describe("oracle/config", function () {
    it("loads the documented example config", function () {
        const config = loadConfig(EXAMPLE_PATH, {});
        expect(config.chain.chainId).to.equal(31337);
        expect(config.key).to.deep.equal({ source: "env", envVar: "VERITY_PRIVATE_KEY" });
        expect(config.models).to.have.length(1);
        expect(config.operator.economics).to.deep.equal({
            tokenWeiPerNativeWei: "3000",
            minMarginBps: 1_000,
            overheadGas: 150_000,
        });
    });

    it("applies defaults for every optional section", function () {
        const { chain, key, models } = example();
        const config = parseConfig({ chain: { ...(chain as object), confirmations: undefined }, key, models }, {});
        expect(config.chain.confirmations).to.equal(2);
        expect(config.roles).to.deep.equal({ operator: true, challenger: false, finalizer: true });
        expect(config.inference.concurrency).to.equal(2);
        expect(config.batching.enabled).to.equal(false);
        expect(config.transactions.feeBumpPercent).to.equal(20);
        expect(config.server).to.deep.equal({ host: "127.0.0.1", port: 9464 });
        expect(config.log.level).to.equal("info");
        expect(config.storage.dataDir).to.equal("./.verity");
        expect(config.inference.timeoutMs).to.equal(30_000);
        expect(config.chain.rpcBatchSize).to.equal(50);
    });

    it("names the field and the reason for each invalid value", function () {
        expect(issuesOf(withChain({ rpcUrl: "ftp://x" }))).to.deep.equal([
            "chain.rpcUrl: must be an http(s) URL (WebSocket endpoints are not supported)",
        ]);
        expect(issuesOf(withChain({ coordinator: "0x1234" }))).to.deep.equal([
            "chain.coordinator: must be a 0x-prefixed 20-byte address",
        ]);
        expect(issuesOf(withChain({ chainId: undefined }))).to.deep.equal(["chain.chainId: is required"]);
        expect(issuesOf({ ...example(), models: [{ modelId: "0xabc" }] })).to.deep.equal([
            "models[0].modelId: must be a 0x-prefixed 32-byte hex string",
        ]);
        expect(issuesOf({ ...example(), models: [] })).to.deep.equal(["models: must list at least one model"]);
        const [fee] = issuesOf({ ...example(), transactions: { feeBumpPercent: 5 } });
        expect(fee).to.match(/^transactions\.feeBumpPercent: /);
        const [batch] = issuesOf(withChain({ rpcBatchSize: 0 }));
        expect(batch).to.match(/^chain\.rpcBatchSize: /);
    });

    it("calls a value of the wrong type wrong, not missing", function () {
        expect(issuesOf(withChain({ confirmations: "2" }))).to.deep.equal([
            "chain.confirmations: Invalid input: expected number, received string",
        ]);
        expect(issuesOf(withChain({ confirmations: 1.5 }))).to.deep.equal([
            "chain.confirmations: Invalid input: expected int, received number",
        ]);
        expect(issuesOf({ ...example(), key: undefined })).to.deep.equal(["key: is required"]);
    });

    it("reports every problem at once, not just the first", function () {
        const issues = issuesOf(withChain({ rpcUrl: "nope", chainId: -1 }));
        expect(issues).to.have.length(2);
        expect(issues.join("\n")).to.include("chain.rpcUrl").and.include("chain.chainId");
    });

    it("requires a bond cap with the challenger role and keeps wei amounts as exact decimal strings", function () {
        const { chain, key, models } = example();
        const base = { chain, key, models };
        // Withdrawals wait for 1 token (10^18 base units of an 18-decimals token), not every few wei of fees.
        expect(parseConfig(base, {}).challenger).to.deep.equal({ withdrawMinWei: "1000000000000000000" });
        expect(issuesOf({ ...base, roles: { challenger: true } })).to.deep.equal([
            "challenger.maxBondWei: is required when roles.challenger is true (the most bond wei the challenger may risk at once)",
        ]);
        const config = parseConfig(
            {
                ...base,
                roles: { challenger: true },
                challenger: { maxBondWei: "123456789012345678901234", withdrawMinWei: 5 },
            },
            {},
        );
        expect(config.challenger).to.deep.equal({ maxBondWei: "123456789012345678901234", withdrawMinWei: "5" });
        expect(issuesOf({ ...base, challenger: { maxBondWei: "0" } })).to.deep.equal([
            "challenger.maxBondWei: must be positive",
        ]);
        expect(issuesOf({ ...base, challenger: { withdrawMinWei: "1e18" } })).to.deep.equal([
            "challenger.withdrawMinWei: must be a decimal integer string (wei)",
        ]);
    });

    it("takes operator.economics optionally: the price required in it, the margin and overhead defaulted", function () {
        const { chain, key, models } = example();
        const base = { chain, key, models };
        expect(parseConfig(base, {}).operator).to.deep.equal({});
        const economics = (e: Record<string, unknown>) => ({ ...base, operator: { economics: e } });
        // An exact decimal, as a string (or a plain JSON number), kept as written.
        expect(parseConfig(economics({ tokenWeiPerNativeWei: "0.000000003" }), {}).operator.economics).to.deep.equal({
            tokenWeiPerNativeWei: "0.000000003",
            minMarginBps: 1_000,
            overheadGas: 150_000,
        });
        expect(
            parseConfig(economics({ tokenWeiPerNativeWei: 2500 }), {}).operator.economics?.tokenWeiPerNativeWei,
        ).to.equal("2500");
        const price = 'must be a positive decimal number, as a string for exactness (e.g. "3000" or "0.000000003")';
        expect(issuesOf(economics({ minMarginBps: 500 }))).to.deep.equal([
            "operator.economics.tokenWeiPerNativeWei: is required",
        ]);
        for (const bad of ["0", "0.000", "-1", "1e-9", 3e-9, "1.", "", true]) {
            expect(issuesOf(economics({ tokenWeiPerNativeWei: bad })), String(bad)).to.deep.equal([
                `operator.economics.tokenWeiPerNativeWei: ${price}`,
            ]);
        }
        const margin = "must be an integer from 0 to 100000 (basis points of the cost: 1000 asks for 10% over it)";
        for (const bad of [-1, 100_001, 2.5, "1000"]) {
            expect(issuesOf(economics({ tokenWeiPerNativeWei: "1", minMarginBps: bad })), String(bad)).to.deep.equal([
                `operator.economics.minMarginBps: ${margin}`,
            ]);
        }
        expect(issuesOf(economics({ tokenWeiPerNativeWei: "1", overheadGas: 21_000 }))).to.deep.equal([
            "operator.economics.overheadGas: must be an integer from 42000 to 30000000 (gas of one submission and one finalization, the callback excluded)",
        ]);
        expect(issuesOf(economics({ tokenWeiPerNativeWei: "1", margin: 5 }))).to.deep.equal([
            "operator.economics.margin: unknown field",
        ]);
    });

    it("refuses unknown fields (typos must not be silently ignored)", function () {
        expect(issuesOf(withChain({ confirmatons: 3 }))).to.deep.equal(["chain.confirmatons: unknown field"]);
    });

    it("refuses secrets in the file and says where keys come from", function () {
        const [issue] = issuesOf({ ...example(), key: { source: "env", privateKey: "0x11" } });
        expect(issue).to.match(/^key\.privateKey: secrets never go in the config file/);
    });

    it("lets the environment override the file, with typed parsing and named errors", function () {
        const config = parseConfig(example(), {
            VERITY_RPC_URL: "https://rpc.example:8545",
            VERITY_CHAIN_ID: "10",
            VERITY_BATCHING: "true",
        });
        expect(config.chain.rpcUrl).to.equal("https://rpc.example:8545");
        expect(config.chain.chainId).to.equal(10);
        expect(config.batching.enabled).to.equal(true);
        expect(issuesOf(example(), { VERITY_CHAIN_ID: "ten" })).to.deep.equal([
            'chain.chainId (from VERITY_CHAIN_ID): must be an integer, got "ten"',
        ]);
        expect(issuesOf(example(), { VERITY_BATCHING: "yes" })).to.deep.equal([
            'batching.enabled (from VERITY_BATCHING): must be true or false, got "yes"',
        ]);
    });

    it("names the file when it cannot be read or parsed, and the message starts with Invalid config", function () {
        const dir = mkdtempSync(join(tmpdir(), "verity-config-"));
        const missing = join(dir, "missing.json");
        expect(() => loadConfig(missing, {})).to.throw(
            ConfigError,
            `Invalid config: ${missing}: cannot read the file (ENOENT)`,
        );
        const broken = join(dir, "broken.json");
        writeFileSync(broken, '{ "chain": ');
        expect(() => loadConfig(broken, {})).to.throw(ConfigError, `Invalid config: ${broken}: not valid JSON`);
        expect(() => parseConfig([], {})).to.throw(ConfigError, "Invalid config: (root): must be a JSON object");
    });
});
