/**
 * `verity deploy`: the protocol as deploy/modules/Verity.ts builds it (ProgramStore, ModelRegistry, Staking,
 * InferenceCoordinator with the staking roles granted, IntegerExecutor, ReexecutionResolver set as the REEXECUTION
 * resolver), driven by ethers from the key in VERITY_PRIVATE_KEY.
 *
 * Idempotent and resumable: the manifest (deployments/<chainId>.json) is written after every step, and a re-run
 * reuses each contract it records (after checking there is code at the address) and skips each role or resolver
 * already in place. The deployment then verifies itself: it reads back the wiring, roles, resolver and every
 * parameter, and records `verified`.
 */
import { resolve } from "node:path";
import { getAddress, id, type BaseContract, type ContractTransactionResponse, isAddress } from "ethers";
import {
    InferenceCoordinator__factory,
    IntegerExecutor__factory,
    MockERC20__factory,
    ModelRegistry__factory,
    ProgramStore__factory,
    ReexecutionResolver__factory,
    Staking__factory,
} from "../../../typechain-types";
import {
    chainCall,
    chainError,
    CliError,
    connect,
    CONTRACT_NAMES,
    defaultDeploymentPath,
    EXIT,
    output,
    progress,
    readFileOrFail,
    readManifest,
    requireGas,
    sendTx,
    signer,
    writeManifest,
    type Account,
    type ChainOptions,
    type DeploymentManifest,
} from "./context";

/** Hardhat's (and anvil's) chain id: a test stake token is deployed there. */
export const LOCAL_CHAIN_ID = 31337;
/** Test tokens minted to the deployer on a local chain. */
const TEST_TOKEN_MINT = 1_000_000n * 10n ** 18n;

/** Deployment parameters: the Ignition module's, with its defaults. */
export const DEFAULT_PARAMETERS = {
    minChallengeWindowSeconds: 60,
    maxChallengeWindowSeconds: 86_400,
    minCollateralWei: String(10n ** 17n),
    unbondingDelaySeconds: 7 * 86_400,
    disputeTimeoutSeconds: 2 * 86_400,
    exclusiveWindowSeconds: 30,
    minDeadlineSeconds: 120,
    maxDeadlineSeconds: 7 * 86_400,
    maxCallbackGasLimit: 2_500_000,
    maxInputBytes: 65_536,
    callbackGasFeeWei: "0",
    protocolFeeBps: 0,
    challengerRewardBps: 5_000,
    failedChallengeOperatorBps: 9_000,
    challengeBondBps: 1_000,
    minChallengeBondWei: String(10n ** 18n),
} as const;

type Parameters = Record<keyof typeof DEFAULT_PARAMETERS, string | number> & { treasury?: string };

const PARAM_KEYS = [
    "exclusiveWindowSeconds",
    "minDeadlineSeconds",
    "maxDeadlineSeconds",
    "maxCallbackGasLimit",
    "maxInputBytes",
    "callbackGasFeeWei",
    "protocolFeeBps",
    "challengerRewardBps",
    "failedChallengeOperatorBps",
    "challengeBondBps",
    "minChallengeBondWei",
] as const;

export interface DeployOptions extends ChainOptions {
    networkName?: string;
    stakeToken?: string;
    params?: string;
}

/**
 * The parameters file: the module's parameter names, flat (`{"unbondingDelaySeconds": 86400}`) or nested under the
 * module's id as Ignition takes them (`{"Verity": {...}}`), so one file serves both. `stakeToken` is `--stake-token`;
 * `owner` is refused (the key's account owns the deployment; hand it over afterwards with Ownable2Step).
 */
function loadParameters(file: string | undefined): { parameters: Parameters; stakeToken?: string } {
    if (file === undefined) return { parameters: { ...DEFAULT_PARAMETERS } };
    let given: Record<string, unknown>;
    try {
        given = JSON.parse(readFileOrFail(file, "parameters file").toString("utf8")) as Record<string, unknown>;
    } catch (error) {
        if (error instanceof CliError) throw error;
        throw new CliError(`${file} is not JSON: ${(error as Error).message}`);
    }
    if (typeof given !== "object" || given === null || Array.isArray(given)) {
        throw new CliError(`${file} must hold a JSON object of parameters`);
    }
    const nested = given.Verity;
    if (Object.keys(given).length === 1 && typeof nested === "object" && nested !== null && !Array.isArray(nested)) {
        given = nested as Record<string, unknown>;
    }
    const { stakeToken, owner, ...rest } = given;
    if (owner !== undefined) {
        throw new CliError(
            `${file}: "owner" is not a verity deploy parameter: the key's account owns the deployment; transfer ownership afterwards (Ownable2Step transferOwnership + acceptOwnership)`,
        );
    }
    if (stakeToken !== undefined && (typeof stakeToken !== "string" || !isAddress(stakeToken))) {
        throw new CliError(`${file}: "stakeToken" must be an address`);
    }
    const out: Record<string, string | number> = { ...DEFAULT_PARAMETERS };
    for (const [key, value] of Object.entries(rest)) {
        if (!(key in DEFAULT_PARAMETERS) && key !== "treasury") {
            throw new CliError(
                `${file}: unknown parameter "${key}" (known: ${Object.keys(DEFAULT_PARAMETERS).join(", ")}, treasury)`,
            );
        }
        if (key === "treasury") {
            if (typeof value !== "string" || !isAddress(value))
                throw new CliError(`${file}: "treasury" must be an address`);
            out[key] = value;
            continue;
        }
        // Integers, as JSON numbers or decimal strings; Ignition writes bigints as "123n", so that form is read too.
        const text =
            typeof value === "number" ? String(value) : typeof value === "string" ? value.replace(/n$/, "") : "";
        if (!/^\d+$/.test(text) || (typeof value === "number" && !Number.isSafeInteger(value))) {
            throw new CliError(
                `${file}: parameter "${key}" must be a non-negative integer (a number, or a decimal string for big values), not ${JSON.stringify(value)}`,
            );
        }
        out[key] = typeof value === "number" ? value : text;
    }
    return { parameters: out as Parameters, ...(stakeToken !== undefined ? { stakeToken } : {}) };
}

/** The parameter names whose values differ between two parameter sets (compared as decimal strings). */
function differingParameters(a: Record<string, unknown>, b: Record<string, unknown>): string[] {
    const keys = new Set([...Object.keys(a), ...Object.keys(b)]);
    return [...keys].filter((k) => String(a[k]) !== String(b[k]));
}

/** Deploys (or resumes), verifies, writes the manifest, prints the report and returns it. */
export async function deploy(opts: DeployOptions) {
    const { provider, chainId, origin } = await connect(opts);
    const wallet = signer(provider, opts.connection?.signer);
    const path = resolve(opts.deployment ?? defaultDeploymentPath(chainId));
    const shown = progress(opts.json);
    const existing = readManifest(path);
    if (existing !== undefined && existing.chainId !== chainId) {
        throw new CliError(`${path} is for chain ${existing.chainId}, not ${chainId}: pass another --deployment path`);
    }
    const loaded = loadParameters(opts.params);
    const requested = loaded.parameters;
    if (loaded.stakeToken !== undefined) {
        if (opts.stakeToken !== undefined && getAddress(opts.stakeToken) !== getAddress(loaded.stakeToken)) {
            throw new CliError(
                `--stake-token ${opts.stakeToken} and the stakeToken ${loaded.stakeToken} in ${opts.params} differ: give one`,
            );
        }
        opts = { ...opts, stakeToken: loaded.stakeToken };
    }
    if (existing !== undefined && opts.params !== undefined) {
        // The recorded parameters carry the treasury the first run chose (the deployer's account by default).
        const wanted: Record<string, unknown> = { ...requested, treasury: requested.treasury ?? wallet.address };
        const differing = differingParameters(existing.parameters, wanted);
        if (differing.length > 0) {
            throw new CliError(
                `${path} was deployed with other parameters (${differing.join(", ")}): deploy to a new --deployment path to change them`,
            );
        }
    }
    const parameters: Parameters = (existing?.parameters as Parameters | undefined) ?? requested;
    parameters.treasury ??= wallet.address;
    const manifest: DeploymentManifest = existing ?? {
        chainId,
        networkName: opts.networkName ?? (chainId === LOCAL_CHAIN_ID ? "localhost" : `chain-${chainId}`),
        deployer: wallet.address,
        block: 0,
        complete: false,
        verified: false,
        contracts: {},
        parameters,
        testStakeToken: false,
    };
    if (getAddress(manifest.deployer) !== getAddress(wallet.address)) {
        throw new CliError(
            `${path} was deployed by ${manifest.deployer}, not this key's ${wallet.address}: resume with that key or use another --deployment path`,
        );
    }
    if (opts.stakeToken !== undefined && manifest.contracts.stakeToken !== undefined) {
        if (getAddress(opts.stakeToken) !== getAddress(manifest.contracts.stakeToken.address)) {
            throw new CliError(
                `${path} uses stake token ${manifest.contracts.stakeToken.address}, not ${opts.stakeToken}`,
            );
        }
    }
    if (manifest.contracts.stakeToken === undefined && opts.stakeToken === undefined && chainId !== LOCAL_CHAIN_ID) {
        throw new CliError(
            `chain ${chainId} is not a local chain: pass --stake-token <ERC-20 address> (a test token is deployed only on chain ${LOCAL_CHAIN_ID})`,
        );
    }
    let reused = 0;
    let gasChecked = false;
    const save = (): void => writeManifest(path, manifest);

    /** Deploys `name` unless the manifest has it (and there is code at its address). */
    async function contract(name: (typeof CONTRACT_NAMES)[number], make: () => Promise<BaseContract>): Promise<string> {
        const known = manifest.contracts[name];
        if (known !== undefined) {
            const code = await chainCall(() => provider.getCode(known.address));
            if (code === "0x") {
                throw new CliError(
                    `${path} records ${name} at ${known.address} but there is no code there (was the chain reset?): remove the manifest and deploy again`,
                );
            }
            reused++;
            return known.address;
        }
        if (!gasChecked) {
            await requireGas(wallet);
            gasChecked = true;
        }
        let deployed: BaseContract;
        try {
            deployed = await make();
        } catch (error) {
            throw chainError(error, `deploying ${name}`);
        }
        const receipt = await sendTx(
            `deploying ${name}`,
            () => Promise.resolve(deployed.deploymentTransaction() as ContractTransactionResponse),
            shown,
        );
        const address = await deployed.getAddress();
        manifest.contracts[name] = { address, block: receipt.blockNumber, transactionHash: receipt.hash };
        if (manifest.block === 0 || receipt.blockNumber < manifest.block) manifest.block = receipt.blockNumber;
        save();
        return address;
    }

    let stakeToken: string;
    if (manifest.contracts.stakeToken === undefined && opts.stakeToken !== undefined) {
        const address = getAddress(opts.stakeToken);
        if ((await chainCall(() => provider.getCode(address))) === "0x") {
            throw new CliError(`--stake-token ${address} has no code on chain ${chainId}: give the ERC-20's address`);
        }
        manifest.contracts.stakeToken = { address, block: 0, transactionHash: "" };
        stakeToken = address;
        save();
    } else {
        const fresh = manifest.contracts.stakeToken === undefined;
        stakeToken = await contract("stakeToken", () =>
            new MockERC20__factory(wallet).deploy("Verity Test Token", "VTT"),
        );
        if (fresh) {
            manifest.testStakeToken = true;
            await sendTx(
                "minting test tokens",
                () => MockERC20__factory.connect(stakeToken, wallet).mint(wallet.address, TEST_TOKEN_MINT),
                shown,
            );
            save();
        }
    }
    const p = parameters;
    const programStore = await contract("programStore", () => new ProgramStore__factory(wallet).deploy());
    const registry = await contract("registry", () =>
        new ModelRegistry__factory(wallet).deploy(
            p.minChallengeWindowSeconds,
            p.maxChallengeWindowSeconds,
            p.minCollateralWei,
            programStore,
        ),
    );
    const staking = await contract("staking", () =>
        new Staking__factory(wallet).deploy(stakeToken, registry, p.unbondingDelaySeconds, wallet.address),
    );
    const coordinatorParams = Object.fromEntries(PARAM_KEYS.map((k) => [k, p[k]])) as Record<
        (typeof PARAM_KEYS)[number],
        string | number
    >;
    const coordinator = await contract("coordinator", () =>
        new InferenceCoordinator__factory(wallet).deploy(
            registry,
            staking,
            p.disputeTimeoutSeconds,
            wallet.address,
            p.treasury ?? wallet.address,
            coordinatorParams,
        ),
    );
    const stakingContract = Staking__factory.connect(staking, wallet);
    for (const role of ["LOCKER_ROLE", "SLASHER_ROLE"]) {
        if (!(await chainCall(() => stakingContract.hasRole(id(role), coordinator)))) {
            await sendTx(
                `granting ${role} to the coordinator`,
                () => stakingContract.grantRole(id(role), coordinator),
                shown,
            );
        }
    }
    const executor = await contract("executor", () => new IntegerExecutor__factory(wallet).deploy());
    const resolver = await contract("reexecutionResolver", () =>
        new ReexecutionResolver__factory(wallet).deploy(coordinator, registry, programStore, executor),
    );
    const coordinatorContract = InferenceCoordinator__factory.connect(coordinator, wallet);
    const current = await chainCall(() => coordinatorContract.getResolver(0));
    if (/^0x0{40}$/i.test(current)) {
        await sendTx("setting the REEXECUTION resolver", () => coordinatorContract.setResolver(0, resolver), shown);
    }
    manifest.complete = true;
    save();

    const problems = await verify(wallet, manifest);
    manifest.verified = problems.length === 0;
    save();
    if (problems.length > 0) {
        throw new CliError(`deployment ${path} does not verify: ${problems.join("; ")}`, EXIT.VERIFY);
    }
    const report = {
        path,
        chainId,
        rpc: origin,
        networkName: manifest.networkName,
        deployer: manifest.deployer,
        block: manifest.block,
        reused,
        verified: manifest.verified,
        contracts: Object.fromEntries(Object.entries(manifest.contracts).map(([k, v]) => [k, v.address])),
        parameters: manifest.parameters,
    };
    const lines = [
        `${reused === CONTRACT_NAMES.length ? "already deployed" : "deployed"} on chain ${chainId} (${manifest.networkName}) from block ${manifest.block}; verified`,
        ...Object.entries(report.contracts).map(([k, v]) => `  ${k.padEnd(20)} ${v}`),
        `wrote ${path}`,
    ];
    output(opts.json, report, lines.join("\n"));
    return report;
}

/** Reads the deployment back: wiring, roles, resolver and parameters. Returns what differs (empty: verified). */
export async function verify(wallet: Account, manifest: DeploymentManifest): Promise<string[]> {
    const a = (name: (typeof CONTRACT_NAMES)[number]): string => getAddress(manifest.contracts[name]?.address ?? "");
    const p = manifest.parameters;
    const problems: string[] = [];
    const expect = (what: string, have: unknown, want: unknown): void => {
        const norm = (v: unknown): string =>
            typeof v === "string" && v.startsWith("0x") ? v.toLowerCase() : String(v);
        if (norm(have) !== norm(want)) problems.push(`${what} is ${String(have)}, want ${String(want)}`);
    };
    const coordinator = InferenceCoordinator__factory.connect(a("coordinator"), wallet);
    const staking = Staking__factory.connect(a("staking"), wallet);
    const registry = ModelRegistry__factory.connect(a("registry"), wallet);
    const resolver = ReexecutionResolver__factory.connect(a("reexecutionResolver"), wallet);
    await chainCall(async () => {
        expect("coordinator.registry", await coordinator.registry(), a("registry"));
        expect("coordinator.staking", await coordinator.staking(), a("staking"));
        expect("coordinator.token", await coordinator.token(), a("stakeToken"));
        expect("coordinator.owner", await coordinator.owner(), manifest.deployer);
        expect("coordinator.treasury", await coordinator.treasury(), p.treasury ?? manifest.deployer);
        expect("coordinator.disputeTimeoutSeconds", await coordinator.disputeTimeoutSeconds(), p.disputeTimeoutSeconds);
        expect("REEXECUTION resolver", await coordinator.getResolver(0), a("reexecutionResolver"));
        const params = await coordinator.getParams();
        for (const key of PARAM_KEYS) expect(`coordinator.${key}`, params[key], p[key]);
        expect("LOCKER_ROLE granted", await staking.hasRole(id("LOCKER_ROLE"), a("coordinator")), true);
        expect("SLASHER_ROLE granted", await staking.hasRole(id("SLASHER_ROLE"), a("coordinator")), true);
        expect("staking.stakeToken", await staking.stakeToken(), a("stakeToken"));
        expect("staking.unbondingDelaySeconds", await staking.unbondingDelaySeconds(), p.unbondingDelaySeconds);
        expect("registry.programStore", await registry.programStore(), a("programStore"));
        expect(
            "registry.minChallengeWindowSeconds",
            await registry.minChallengeWindowSeconds(),
            p.minChallengeWindowSeconds,
        );
        expect(
            "registry.maxChallengeWindowSeconds",
            await registry.maxChallengeWindowSeconds(),
            p.maxChallengeWindowSeconds,
        );
        expect("registry.minCollateralWei", await registry.minCollateralWei(), p.minCollateralWei);
        expect("resolver.coordinator", await resolver.coordinator(), a("coordinator"));
        expect("resolver.registry", await resolver.registry(), a("registry"));
        expect("resolver.programStore", await resolver.programStore(), a("programStore"));
        expect("resolver.executor", await resolver.executor(), a("executor"));
    }, "verifying the deployment");
    return problems;
}
