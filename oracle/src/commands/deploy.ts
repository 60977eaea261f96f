/**
 * `verity deploy`: the protocol as deploy/modules/Verity.ts builds it (ProgramStore, ModelRegistry, Staking,
 * InferenceCoordinator with the staking roles granted, IntegerExecutor, ReexecutionResolver set as the REEXECUTION
 * resolver), driven by ethers from the key in VERITY_PRIVATE_KEY.
 *
 * Idempotent and resumable: the manifest (deployments/<chainId>.json) is written after every step, and a re-run
 * reuses each contract it records (after checking there is code at the address) and skips each role or resolver
 * already in place. The deployment then verifies itself: it reads back the wiring, roles, resolver and every
 * parameter, and records `verified`.
 *
 * Role set-up: the key's account must own everything while it wires the contracts (it sets the resolver and grants
 * the staking roles). With an `owner` (`--owner`, or `owner` in the parameters file) the deployment is then handed
 * over, as deploy/modules/VerityHandover.ts does: the owner becomes the coordinator's pending owner (Ownable2Step:
 * it takes over when it calls acceptOwnership), and the key's account renounces the staking admin, so nobody can
 * grant the staking role again: the coordinator's SLASHER_ROLE is fixed for good. A finished
 * deployment without an owner is handed over by re-running with `--owner`; until the owner accepts, a re-run with
 * another `--owner` re-points the pending transfer (a mistyped address takes nothing).
 */
import { resolve } from "node:path";
import {
    getAddress,
    id,
    ZeroHash,
    type BaseContract,
    type ContractTransactionResponse,
    isAddress,
    type Provider,
} from "ethers";
import { DISPUTE_LOGIC_LINK } from "../chain/coordinator";
import { rpcMessage } from "../internal/errors";
import { DEPLOYMENT_DEFAULTS, type DeploymentParameter } from "../protocol/deploymentDefaults";
import { VerificationMode } from "../protocol/verificationMode";
import {
    DisputeLogic__factory,
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
    loadDeployment,
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

/** A parameter's value as the parameters file and the manifest hold it: a bigint as a decimal string. */
type InFileForm<T> = T extends bigint ? string : T;
const inFileForm = (value: number | bigint): number | string => (typeof value === "bigint" ? String(value) : value);

/**
 * Deployment parameters: the Ignition module's (deploy/modules/Verity.ts), with the defaults both take from
 * oracle/src/protocol/deploymentDefaults.ts, wei amounts as decimal strings (the form of the parameters file and the
 * manifest); test/deploy/Verity.module.spec.ts pins the module's defaults to these.
 */
export const DEFAULT_PARAMETERS = Object.fromEntries(
    Object.entries(DEPLOYMENT_DEFAULTS).map(([name, value]) => [name, inFileForm(value)]),
) as { readonly [K in DeploymentParameter]: InFileForm<(typeof DEPLOYMENT_DEFAULTS)[K]> };

type Parameters = Record<keyof typeof DEFAULT_PARAMETERS, string | number> & { treasury?: string; owner?: string };

/** AccessControl's DEFAULT_ADMIN_ROLE: grants and revokes the staking roles; renounced on a hand-over. */
const STAKING_ADMIN_ROLE = ZeroHash;

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
    owner?: string;
}

/**
 * The parameters file: the module's parameter names, flat (`{"unbondingDelaySeconds": 86400}`) or nested under the
 * modules' ids as Ignition takes them (`{"Verity": {...}, "VerityHandover": {"owner": "0x…"}}`), so one file serves
 * both. `stakeToken` is `--stake-token` and `owner` is `--owner`.
 */
function loadParameters(file: string | undefined): { parameters: Parameters; stakeToken?: string; owner?: string } {
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
    given = flattenModules(file, given);
    const { stakeToken, owner, ...rest } = given;
    if (stakeToken !== undefined && (typeof stakeToken !== "string" || !isAddress(stakeToken))) {
        throw new CliError(`${file}: "stakeToken" must be an address`);
    }
    if (owner !== undefined && (typeof owner !== "string" || !isAddress(owner) || isZeroAddress(owner))) {
        throw new CliError(`${file}: "owner" must be an address other than zero`);
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
    return {
        parameters: out as Parameters,
        ...(stakeToken !== undefined ? { stakeToken } : {}),
        ...(owner !== undefined ? { owner } : {}),
    };
}

/**
 * The Ignition modules whose parameters a file may nest (with Ignition's `$global`, parameters for every module),
 * and the parameters the hand-over module takes.
 */
const MODULE_IDS = ["$global", "Verity", "VerityHandover"];
const HANDOVER_PARAMETERS = ["owner"];

const isObject = (v: unknown): v is Record<string, unknown> => typeof v === "object" && v !== null && !Array.isArray(v);

/**
 * Ignition's nested form (`{"Verity": {...}, "VerityHandover": {...}}`) made flat, `$global` first so a module's
 * own value wins as in Ignition. A file is nested when any value is an object (no parameter's value is); a flat
 * object is returned as is.
 */
function flattenModules(file: string, given: Record<string, unknown>): Record<string, unknown> {
    const keys = Object.keys(given);
    if (!keys.some((k) => isObject(given[k]))) return given;
    const unknown = keys.filter((k) => !MODULE_IDS.includes(k));
    if (unknown.length > 0) {
        throw new CliError(
            `${file}: nested parameters are per module, and "${unknown[0]}" is not one (modules: Verity, VerityHandover; or $global)`,
        );
    }
    const flat: Record<string, unknown> = {};
    for (const key of [...keys].sort((a, b) => MODULE_IDS.indexOf(a) - MODULE_IDS.indexOf(b))) {
        const inner = given[key];
        if (!isObject(inner)) throw new CliError(`${file}: "${key}" must hold an object of that module's parameters`);
        for (const name of Object.keys(inner)) {
            if (key === "VerityHandover" && !HANDOVER_PARAMETERS.includes(name)) {
                throw new CliError(`${file}: "VerityHandover" takes only "owner", not "${name}"`);
            }
            if (key === "Verity" && name === "owner") {
                throw new CliError(`${file}: "owner" belongs under "VerityHandover" (the module that hands over)`);
            }
        }
        Object.assign(flat, inner);
    }
    return flat;
}
/** The parameter names whose values differ between two parameter sets (compared as decimal strings). */
function differingParameters(a: Record<string, unknown>, b: Record<string, unknown>): string[] {
    const keys = new Set([...Object.keys(a), ...Object.keys(b)]);
    return [...keys].filter((k) => String(a[k]) !== String(b[k]));
}

/** Deploys (or resumes), verifies, writes the manifest, prints the report and returns it. */
/**
 * Init code that runs TLOAD (EIP-1153) and MCOPY (EIP-5656), the Cancun opcodes the contracts use: PUSH0 TLOAD
 * POP, PUSH0 PUSH0 PUSH0 MCOPY, STOP. A chain without Cancun fails it with an invalid opcode.
 */
export const CANCUN_PROBE = "0x5f5c505f5f5f5e00";

/**
 * Refuses a chain that does not run the Cancun upgrade: the contracts would deploy there, then fail on their first
 * transient-storage read (every deposit, request and submission) with an error that names nothing.
 */
export async function requireCancun(provider: Pick<Provider, "call">, chainId: number): Promise<void> {
    try {
        await provider.call({ data: CANCUN_PROBE });
    } catch (error) {
        const said = rpcMessage(error) ?? (error as { shortMessage?: string }).shortMessage ?? String(error);
        throw new CliError(
            `chain ${chainId} does not run the Cancun upgrade (transient storage, EIP-1153, and MCOPY, EIP-5656), ` +
                `which Verity's contracts use: deploy on a chain that does (Hardhat and anvil do by default; ` +
                `check the node's hardfork setting). The RPC said: ${said}`,
            EXIT.REFUSED,
        );
    }
}

export async function deploy(opts: DeployOptions) {
    const { provider, chainId, origin } = await connect(opts);
    await requireCancun(provider, chainId);
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
    if (opts.owner !== undefined && (!isAddress(opts.owner) || isZeroAddress(opts.owner))) {
        throw new CliError(`--owner ${opts.owner} is not an address other than zero`);
    }
    if (loaded.owner !== undefined) {
        if (opts.owner !== undefined && getAddress(opts.owner) !== getAddress(loaded.owner)) {
            throw new CliError(
                `--owner ${opts.owner} and the owner ${loaded.owner} in ${opts.params} differ: give one`,
            );
        }
        opts = { ...opts, owner: loaded.owner };
    }
    if (existing !== undefined && opts.params !== undefined) {
        // The recorded parameters carry the treasury the first run chose (the deployer's account by default).
        // The owner is not compared: a deployment without one may be handed over by a re-run (checked below).
        const wanted: Record<string, unknown> = { ...requested, treasury: requested.treasury ?? wallet.address };
        const { owner: _recordedOwner, ...recorded } = existing.parameters;
        const differing = differingParameters(recorded, wanted);
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
    // Manifests written before the hand-over existed have no owner: theirs is the deployer.
    parameters.owner = getAddress(parameters.owner ?? manifest.deployer);
    /** Whom this run hands the deployment over to. */
    let owner = parameters.owner;
    if (opts.owner !== undefined && getAddress(opts.owner) !== parameters.owner) {
        // A new owner (or a corrected one) is fine while the deployer still owns the coordinator: Ownable2Step lets
        // it re-point a pending transfer. Once someone else owns it, further transfers are that owner's.
        const recorded = manifest.contracts.coordinator?.address;
        // Without code there (a reset chain), the contract check below says so.
        const deployed = recorded !== undefined && (await chainCall(() => provider.getCode(recorded))) !== "0x";
        if (deployed) {
            const current = await chainCall(
                () => InferenceCoordinator__factory.connect(recorded, provider).owner(),
                "reading the coordinator's owner",
            );
            if (
                getAddress(current) !== getAddress(manifest.deployer) &&
                getAddress(current) !== getAddress(opts.owner)
            ) {
                throw new CliError(
                    `the coordinator of ${path} is owned by ${current}, not this deployer: further transfers are its owner's (pass --owner ${current} to complete a hand-over to it)`,
                    EXIT.REFUSED,
                );
            }
        }
        if (getAddress(opts.owner) === getAddress(manifest.deployer)) {
            throw new CliError(
                `${path} hands the deployment over to ${parameters.owner}: the deployer cannot take it back (it may have renounced the staking admin already); re-point the hand-over with --owner <address>`,
            );
        }
        owner = getAddress(opts.owner);
        if (!deployed) {
            // Nothing on chain to contradict it: recorded now, so that an interrupted run resumes with it. With a
            // coordinator already there, it is recorded once the transfer is sent, so a failed run changes nothing.
            parameters.owner = owner;
            manifest.verified = false;
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
    const disputeLogic = await contract("disputeLogic", () => new DisputeLogic__factory(wallet).deploy());
    const coordinator = await contract("coordinator", () =>
        new InferenceCoordinator__factory({ [DISPUTE_LOGIC_LINK]: disputeLogic }, wallet).deploy(
            registry,
            staking,
            p.disputeTimeoutSeconds,
            wallet.address,
            p.treasury ?? wallet.address,
            coordinatorParams,
        ),
    );
    const registryContract = ModelRegistry__factory.connect(registry, wallet);
    const bound = await chainCall(() => registryContract.coordinator());
    if (/^0x0{40}$/i.test(bound)) {
        await sendTx(
            "binding the registry to the coordinator",
            () => registryContract.bindCoordinator(coordinator),
            shown,
        );
    } else if (getAddress(bound) !== getAddress(coordinator)) {
        throw new CliError(
            `the registry at ${registry} is bound to another coordinator (${bound}): remove the manifest and deploy again`,
            EXIT.VERIFY,
        );
    }
    const stakingContract = Staking__factory.connect(staking, wallet);
    const slasher = id("SLASHER_ROLE");
    if (!(await chainCall(() => stakingContract.hasRole(slasher, coordinator)))) {
        await sendTx(
            "granting SLASHER_ROLE to the coordinator",
            () => stakingContract.grantRole(slasher, coordinator),
            shown,
        );
    }
    const executor = await contract("executor", () => new IntegerExecutor__factory(wallet).deploy());
    const resolver = await contract("reexecutionResolver", () =>
        new ReexecutionResolver__factory(wallet).deploy(
            coordinator,
            registry,
            programStore,
            executor,
            p.maxDisputeGas,
            p.disputeGasPriceWei,
        ),
    );
    const coordinatorContract = InferenceCoordinator__factory.connect(coordinator, wallet);
    const current = await chainCall(() => coordinatorContract.getResolver(VerificationMode.REEXECUTION));
    if (/^0x0{40}$/i.test(current)) {
        await sendTx(
            "setting the REEXECUTION resolver",
            () => coordinatorContract.setResolver(VerificationMode.REEXECUTION, resolver),
            shown,
        );
    }
    save();
    await handOver(owner, coordinatorContract, stakingContract, wallet.address, opts.owner !== undefined, shown);
    if (parameters.owner !== owner) {
        parameters.owner = owner;
        manifest.verified = false; // until the read-back below
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
        ownership: await ownership(coordinatorContract, stakingContract, parameters.owner, manifest.deployer),
    };
    const lines = [
        `${reused === CONTRACT_NAMES.length ? "already deployed" : "deployed"} on chain ${chainId} (${manifest.networkName}) from block ${manifest.block}; verified`,
        ...Object.entries(report.contracts).map(([k, v]) => `  ${k.padEnd(20)} ${v}`),
        ownershipLine(report.ownership, manifest.deployer, chainId),
        `wrote ${path}`,
    ];
    output(opts.json, report, lines.join("\n"));
    return report;
}

type Coordinator = ReturnType<typeof InferenceCoordinator__factory.connect>;
type StakingContract = ReturnType<typeof Staking__factory.connect>;

/**
 * Hands the deployment over to `owner` (nothing to do when it is the deployer): the coordinator's ownership
 * (pending until the owner accepts), then the deployer renounces the staking admin, which nobody holds after.
 * Each step is skipped when the chain shows it done, so an interrupted hand-over resumes. Nothing is sent when the
 * coordinator belongs to a third account while the deployer still holds the staking admin: renouncing it then
 * would not complete a hand-over to `owner`. A plain re-run (`named` false) does not restart a finished hand-over
 * whose owner gave the coordinator back to the deployer.
 */
async function handOver(
    owner: string,
    coordinator: Coordinator,
    staking: StakingContract,
    deployer: string,
    named: boolean,
    shown: ReturnType<typeof progress>,
): Promise<void> {
    if (getAddress(owner) === getAddress(deployer)) return;
    const state = await readOwnership(coordinator, staking, deployer);
    const { current, pending, deployerIsAdmin } = state;
    if (getAddress(current) === getAddress(deployer)) {
        if (getAddress(pending) !== getAddress(owner) && (named || !handedBack(state))) {
            await sendTx(
                `handing the coordinator to ${owner} (it takes over with acceptOwnership)`,
                () => coordinator.transferOwnership(owner),
                shown,
            );
        }
    } else if (getAddress(current) !== getAddress(owner) && deployerIsAdmin) {
        throw new CliError(
            `the coordinator is owned by ${current}, not ${owner} or this deployer: pass --owner ${current} to finish handing over to it`,
            EXIT.REFUSED,
        );
    }
    if (deployerIsAdmin) {
        await sendTx(
            "renouncing the staking admin (the staking roles are fixed from now on)",
            () => staking.renounceRole(STAKING_ADMIN_ROLE, deployer),
            shown,
        );
    }
}

/** Who holds the deployment's powers: the coordinator's owner and pending owner (zero: none), the staking admin. */
interface OwnershipState {
    current: string;
    pending: string;
    deployerIsAdmin: boolean;
}

/** Reads the OwnershipState: the hand-over, the report and the read-back all decide from it. */
function readOwnership(coordinator: Coordinator, staking: StakingContract, deployer: string): Promise<OwnershipState> {
    return chainCall(async () => {
        const [current, pending, deployerIsAdmin] = await Promise.all([
            coordinator.owner(),
            coordinator.pendingOwner(),
            staking.hasRole(STAKING_ADMIN_ROLE, deployer),
        ]);
        return { current, pending, deployerIsAdmin };
    }, "reading the coordinator's owner");
}

/**
 * Who owns the coordinator now (and who is pending), the owner the deployment names, and whether the deployer
 * still administers the staking roles.
 */
async function ownership(
    coordinator: Coordinator,
    staking: StakingContract,
    owner: string,
    deployer: string,
): Promise<{ owner: string; current: string; pendingOwner: string | null; deployerIsStakingAdmin: boolean }> {
    const { current, pending, deployerIsAdmin } = await readOwnership(coordinator, staking, deployer);
    return {
        owner,
        current,
        pendingOwner: isZeroAddress(pending) ? null : pending,
        deployerIsStakingAdmin: deployerIsAdmin,
    };
}

function ownershipLine(o: Awaited<ReturnType<typeof ownership>>, deployer: string, chainId: number): string {
    const admin = o.deployerIsStakingAdmin
        ? "the deployer administers the staking roles"
        : "nobody administers the staking roles";
    if (o.pendingOwner !== null) {
        return `  owner                ${o.current}; ${o.pendingOwner} takes over when it runs \`verity accept-ownership\`; ${admin}`;
    }
    if (getAddress(o.current) === getAddress(deployer) && o.deployerIsStakingAdmin && chainId !== LOCAL_CHAIN_ID) {
        return `  owner                ${o.current} (this key), also the staking admin: hand over with --owner <address>`;
    }
    return `  owner                ${o.current}; ${admin}`;
}

const isZeroAddress = (address: string): boolean => /^0x0{40}$/i.test(address);

/**
 * The deployer owns the coordinator with nothing pending, yet has renounced the staking admin: a hand-over finished
 * (the transfer always comes first) and its owner gave the coordinator back.
 */
const handedBack = ({ pending, deployerIsAdmin }: OwnershipState): boolean =>
    isZeroAddress(pending) && !deployerIsAdmin;

/**
 * Reads the deployment back: wiring, roles, resolver and parameters. Returns what differs (empty: verified). Once a
 * hand-over has taken the coordinator out of the deployer's hands, its treasury and settable parameters are the
 * owner's to change (setTreasury, setParams) and are no longer compared; what nobody can change still is.
 */
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
        const coordinatorCode = ((await wallet.provider?.getCode(a("coordinator"))) ?? "0x").toLowerCase();
        expect(
            "coordinator links DisputeLogic",
            coordinatorCode.includes(a("disputeLogic").slice(2).toLowerCase()),
            true,
        );
        // A hand-over the manifest names must be done: the deployer no longer the staking admin, and the
        // coordinator either out of the deployer's hands (the owner accepted, and may have moved it on since) or
        // pending to the owner. Without one, ownership is the deployer's business and is only reported.
        // (A finished hand-over whose owner gave the coordinator back to the deployer counts as done.)
        const owner = getAddress(String(p.owner ?? manifest.deployer));
        let ownersToChange = false;
        if (owner !== getAddress(manifest.deployer)) {
            const state = await readOwnership(coordinator, staking, manifest.deployer);
            const back = handedBack(state);
            if (getAddress(state.current) === getAddress(manifest.deployer) && !back) {
                expect("coordinator.pendingOwner", state.pending, owner);
            }
            expect("deployer is the staking admin", state.deployerIsAdmin, false);
            ownersToChange = getAddress(state.current) !== getAddress(manifest.deployer) || back;
        }
        if (!ownersToChange) {
            expect("coordinator.treasury", await coordinator.treasury(), p.treasury ?? manifest.deployer);
            const params = await coordinator.getParams();
            for (const key of PARAM_KEYS) expect(`coordinator.${key}`, params[key], p[key]);
        }
        expect("coordinator.disputeTimeoutSeconds", await coordinator.disputeTimeoutSeconds(), p.disputeTimeoutSeconds);
        expect(
            "REEXECUTION resolver",
            await coordinator.getResolver(VerificationMode.REEXECUTION),
            a("reexecutionResolver"),
        );
        expect("SLASHER_ROLE granted", await staking.hasRole(id("SLASHER_ROLE"), a("coordinator")), true);
        expect("staking.stakeToken", await staking.stakeToken(), a("stakeToken"));
        expect("staking.unbondingDelaySeconds", await staking.unbondingDelaySeconds(), p.unbondingDelaySeconds);
        expect("registry.programStore", await registry.programStore(), a("programStore"));
        expect("registry.coordinator", await registry.coordinator(), a("coordinator"));
        expect("resolver.maxDisputeGas", await resolver.maxDisputeGas(), p.maxDisputeGas);
        expect("resolver.disputeGasPriceWei", await resolver.disputeGasPriceWei(), p.disputeGasPriceWei);
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

/**
 * `verity accept-ownership`: the owner named by a hand-over takes the coordinator over (Ownable2Step). Refused with
 * exit 4 and nothing sent unless the key's account is the pending owner.
 */
export async function acceptOwnership(opts: ChainOptions) {
    const { provider, chainId } = await connect(opts);
    const deployment = loadDeployment(opts, chainId);
    const wallet = signer(provider, opts.connection?.signer);
    const coordinator = InferenceCoordinator__factory.connect(deployment.address("coordinator"), wallet);
    const [current, pending] = await chainCall(
        () => Promise.all([coordinator.owner(), coordinator.pendingOwner()]),
        "reading the coordinator's owner",
    );
    if (getAddress(current) === getAddress(wallet.address)) {
        throw new CliError(`${wallet.address} owns the coordinator already`, EXIT.REFUSED);
    }
    if (getAddress(pending) !== getAddress(wallet.address)) {
        const handover = /^0x0{40}$/i.test(pending)
            ? "no hand-over is pending (the deployer starts one with verity deploy --owner, or the owner with transferOwnership)"
            : `the pending owner is ${pending}: use its key`;
        throw new CliError(`${wallet.address} cannot take the coordinator over: ${handover}`, EXIT.REFUSED);
    }
    await requireGas(wallet);
    const receipt = await sendTx(
        "accepting ownership of the coordinator",
        () => coordinator.acceptOwnership(),
        progress(opts.json),
    );
    const report = {
        coordinator: await coordinator.getAddress(),
        previousOwner: current,
        owner: wallet.address,
        transactionHash: receipt.hash,
    };
    output(opts.json, report, `${wallet.address} owns the coordinator ${report.coordinator} (was ${current})`);
    return report;
}
