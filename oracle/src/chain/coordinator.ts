/**
 * Typed access to the Verity contracts over the node's RPC client: calldata for the calls the node sends,
 * views it reads, revert decoding, and EIP-712 attestation signing. ABIs come from TypeChain.
 */
import { AbiCoder, getBytes, hexlify, keccak256, randomBytes, type Interface, type Wallet } from "ethers";
import {
    IERC20Errors__factory,
    IERC20__factory,
    IReexecutionResolver__factory,
    InferenceCoordinator__factory,
    ModelRegistry__factory,
    Staking__factory,
} from "../../../typechain-types";
import type { ChainClient } from "./rpc";
import type { Request } from "./requestEvents";

const coordinator = InferenceCoordinator__factory.createInterface();
const registry = ModelRegistry__factory.createInterface();
const staking = Staking__factory.createInterface();
const reexecutionResolver = IReexecutionResolver__factory.createInterface();
const erc20 = IERC20__factory.createInterface();
const erc20Errors = IERC20Errors__factory.createInterface();

/** The coordinator events the node follows (topic0 of each). */
export const FOLLOWED_EVENTS = [
    "InferenceRequested",
    "ResultSubmitted",
    "ResultChallenged",
    "ChallengeWindowRestarted",
    "ResultFinalized",
    "RequestCancelled",
    "DisputeResolved",
    "DisputeExpired",
    "ResultVoided",
    "BatchItemSkipped",
] as const;

export function eventTopic(name: (typeof FOLLOWED_EVENTS)[number]): string {
    const event = coordinator.getEvent(name);
    if (event === null) throw new Error(`InferenceCoordinator has no event ${name}`);
    return event.topicHash;
}

/** A decoded revert: the custom error's name and arguments, or a description of undecodable data. */
export interface DecodedRevert {
    name: string;
    args: readonly unknown[];
}

/**
 * Decodes revert data from any Verity contract (coordinator, staking, registry, re-execution resolver errors are
 * all tried) or the stake token (OpenZeppelin's ERC-6093 errors, e.g. an allowance or balance short of a bond).
 */
export function decodeRevert(data: string): DecodedRevert {
    for (const iface of [coordinator, staking, registry, reexecutionResolver, erc20Errors] as Interface[]) {
        try {
            const parsed = iface.parseError(data);
            if (parsed !== null) return { name: parsed.name, args: [...parsed.args] };
        } catch {
            // Not this contract's error.
        }
    }
    return { name: data === "0x" ? "EmptyRevert" : "UnknownRevert", args: [data] };
}

export interface OnChainModel {
    owner: string;
    onnxHash: string;
    manifestHash: string;
    programHash: string;
    uri: string;
    mode: number;
    active: boolean;
    collateralWei: bigint;
}

export interface AttestedItem {
    request: Request;
    resultCode: number;
    output: Uint8Array;
    traceCommitment: string;
}

export const ZERO_BYTES32 = `0x${"00".repeat(32)}`;

/**
 * The link reference of the DisputeLogic library in the InferenceCoordinator's bytecode: every deployment of the
 * coordinator (`verity deploy`, the Ignition module, the test kit) deploys DisputeLogic first and links it here.
 */
export const DISPUTE_LOGIC_LINK = "contracts/coordinator/DisputeLogic.sol:DisputeLogic";

/** A result as the chain's re-execution gives it. */
export interface ChainResult {
    resultCode: number;
    output: Uint8Array;
    outputHash: string;
}

/** EIP-712 types of the coordinator's `Attestation` (must match ATTESTATION_TYPEHASH in the contract). */
export const ATTESTATION_TYPES = {
    Attestation: [
        { name: "requestId", type: "uint256" },
        { name: "modelId", type: "bytes32" },
        { name: "inputHash", type: "bytes32" },
        { name: "resultCode", type: "uint8" },
        { name: "outputHash", type: "bytes32" },
        { name: "traceCommitment", type: "bytes32" },
    ],
};

/**
 * The commitment of a challenge of `requestId` by `challenger` revealed with `salt`, exactly as the coordinator's
 * `challengeCommitment` view computes it: keccak256(abi.encode(uint256 requestId, address challenger, bytes32 salt))
 * (a test pins the two together). It binds the challenger's address and hides the target until the reveal.
 */
export function challengeCommitment(requestId: bigint, challenger: string, salt: string): string {
    return keccak256(
        AbiCoder.defaultAbiCoder().encode(["uint256", "address", "bytes32"], [requestId, challenger, salt]),
    );
}

/** A fresh secret salt for a challenge commitment: 32 random bytes (hex). */
export function newChallengeSalt(): string {
    return hexlify(randomBytes(32));
}

/** Reads and encodes against one deployment. */
export class CoordinatorClient {
    private registryAddress?: string;
    private stakingAddress?: string;
    private disputeTimeout?: number;
    private tokenAddress?: string;

    constructor(
        private readonly chain: ChainClient,
        readonly address: string,
    ) {}

    private async view<T>(iface: Interface, to: string, fn: string, args: unknown[]): Promise<T> {
        const data = iface.encodeFunctionData(fn, args);
        const result = await this.chain.call(to, data);
        const decoded = iface.decodeFunctionResult(fn, result);
        return (decoded.length === 1 ? decoded[0] : decoded) as T;
    }

    async registry(): Promise<string> {
        this.registryAddress ??= await this.view<string>(coordinator, this.address, "registry", []);
        return this.registryAddress;
    }

    async staking(): Promise<string> {
        this.stakingAddress ??= await this.view<string>(coordinator, this.address, "staking", []);
        return this.stakingAddress;
    }

    async getModel(modelId: string): Promise<OnChainModel> {
        const m = await this.view<{
            owner: string;
            onnxHash: string;
            manifestHash: string;
            programHash: string;
            uri: string;
            terms: { mode: bigint; active: boolean; collateralWei: bigint };
        }>(registry, await this.registry(), "getModel", [modelId]);
        return {
            owner: m.owner,
            onnxHash: m.onnxHash,
            manifestHash: m.manifestHash,
            programHash: m.programHash,
            uri: m.uri,
            mode: Number(m.terms.mode),
            active: m.terms.active,
            collateralWei: m.terms.collateralWei,
        };
    }

    async isRegistered(modelId: string, operator: string): Promise<boolean> {
        return this.view<boolean>(staking, await this.staking(), "isRegistered", [modelId, operator]);
    }

    async stakeOf(operator: string): Promise<{ stakedWei: bigint; lockedWei: bigint; freeWei: bigint }> {
        const stakingAddress = await this.staking();
        const s = await this.view<{ stakedWei: bigint; lockedWei: bigint }>(staking, stakingAddress, "getStake", [
            operator,
        ]);
        const freeWei = await this.view<bigint>(staking, stakingAddress, "freeStake", [operator]);
        return { stakedWei: s.stakedWei, lockedWei: s.lockedWei, freeWei };
    }

    async balanceOf(account: string): Promise<bigint> {
        return this.view<bigint>(coordinator, this.address, "balanceOf", [account]);
    }

    /** The stake token (also the fee and bond token). */
    async token(): Promise<string> {
        this.tokenAddress ??= await this.view<string>(coordinator, this.address, "token", []);
        return this.tokenAddress;
    }

    /** `account`'s stake-token balance (its wallet, not its coordinator balance). */
    async tokenBalanceOf(account: string): Promise<bigint> {
        return this.view<bigint>(erc20, await this.token(), "balanceOf", [account]);
    }

    /** The stake-token allowance `owner` gave the coordinator. */
    async tokenAllowance(owner: string): Promise<bigint> {
        return this.view<bigint>(erc20, await this.token(), "allowance", [owner, this.address]);
    }

    /** The resolver of a verification mode, or null when none is set. Not cached: it is set once, possibly late. */
    async resolver(mode: bigint): Promise<string | null> {
        const address = await this.view<string>(coordinator, this.address, "getResolver", [mode]);
        return /^0x0{40}$/i.test(address) ? null : address;
    }

    /**
     * The chain's own answer for a REEXECUTION model: `resolver.reexecute(modelId, input)` by eth_call, the very
     * computation a dispute runs. Throws RevertError when the resolver refuses (wrong mode, program mismatch).
     */
    async reexecute(resolver: string, modelId: string, input: Uint8Array): Promise<ChainResult> {
        const [resultCode, output] = await this.view<[bigint, string]>(reexecutionResolver, resolver, "reexecute", [
            modelId,
            input,
        ]);
        return { resultCode: Number(resultCode), output: getBytes(output), outputHash: keccak256(output) };
    }

    /** The most gas a dispute may need at this REEXECUTION resolver (its registration bound, `maxDisputeGas`). */
    async maxDisputeGas(resolver: string): Promise<bigint> {
        return this.view<bigint>(reexecutionResolver, resolver, "maxDisputeGas", []);
    }

    /** `commitChallenge(commitment)` calldata: the first half of a challenge (see `challengeCommitment`). */
    encodeCommitChallenge(commitment: string): string {
        return coordinator.encodeFunctionData("commitChallenge", [commitment]);
    }

    /** `challenge(request, input, salt)` calldata: the reveal of the sender's commitment made with `salt`. */
    encodeChallenge(request: Request, input: Uint8Array, salt: string): string {
        return coordinator.encodeFunctionData("challenge", [request, input, salt]);
    }

    /** The block in which a challenge commitment was made, or 0 when none is stored (never made, or used up). */
    async challengeCommittedAt(commitment: string): Promise<number> {
        return Number(await this.view<bigint>(coordinator, this.address, "getChallengeCommitment", [commitment]));
    }

    /** `approve(coordinator, amountWei)` calldata for the stake token. */
    encodeApprove(amountWei: bigint): string {
        return erc20.encodeFunctionData("approve", [this.address, amountWei]);
    }

    encodeWithdraw(to: string, amountWei: bigint): string {
        return coordinator.encodeFunctionData("withdraw", [to, amountWei]);
    }

    encodeSubmit(item: AttestedItem): string {
        return coordinator.encodeFunctionData("submitResult", [
            item.request,
            item.resultCode,
            item.output,
            item.traceCommitment,
        ]);
    }

    /** `submitAttestedResults` calldata; each item is signed by `wallet` (EIP-712, bound to chain and contract). */
    async encodeSubmitBatch(items: AttestedItem[], wallet: Wallet, chainId: number): Promise<string> {
        const attested = [];
        for (const item of items) {
            attested.push({
                request: item.request,
                resultCode: item.resultCode,
                output: hexlify(item.output),
                traceCommitment: item.traceCommitment,
                signature: await this.signAttestation(item, wallet, chainId),
            });
        }
        return coordinator.encodeFunctionData("submitAttestedResults", [attested]);
    }

    /** When the dispute of `requestId` may be expired (openedAt + disputeTimeoutSeconds), or null if none is open. */
    async disputeExpiresAt(requestId: bigint): Promise<number | null> {
        const dispute = await this.view<{ openedAt: bigint }>(coordinator, this.address, "getDispute", [requestId]);
        if (dispute.openedAt === 0n) return null;
        this.disputeTimeout ??= Number(await this.view<bigint>(coordinator, this.address, "disputeTimeoutSeconds", []));
        return Number(dispute.openedAt) + this.disputeTimeout;
    }

    encodeExpireDispute(request: Request): string {
        return coordinator.encodeFunctionData("expireDispute", [request]);
    }

    encodeFinalize(request: Request, output: Uint8Array): string {
        return coordinator.encodeFunctionData("finalize", [request, output]);
    }

    encodeFinalizeBatch(items: { request: Request; output: Uint8Array }[]): string {
        return coordinator.encodeFunctionData("finalizeBatch", [
            items.map((i) => ({ request: i.request, output: hexlify(i.output) })),
        ]);
    }

    /** The operator's EIP-712 signature over an attestation (the coordinator's `Attestation` type). */
    signAttestation(item: AttestedItem, wallet: Wallet, chainId: number): Promise<string> {
        return wallet.signTypedData(
            { name: "Verity", version: "1", chainId, verifyingContract: this.address },
            ATTESTATION_TYPES,
            {
                requestId: item.request.requestId,
                modelId: item.request.modelId,
                inputHash: item.request.inputHash,
                resultCode: item.resultCode,
                outputHash: keccak256(item.output),
                traceCommitment: item.traceCommitment,
            },
        );
    }
}
