/**
 * `verity deploy`'s role set-up and read-back (oracle/src/commands/deploy.ts), in process on the Hardhat network:
 * the hand-over to an owner resumes when interrupted, can be re-pointed until the owner accepts, refuses to renounce
 * the staking admin when the coordinator belongs to a third account, and `verify` names what does not match.
 * Each test deploys afresh from its own funded key, so it disturbs no other suite's accounts.
 */
import { expect } from "chai";
import { mkdtempSync, readFileSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { ethers } from "hardhat";
import { Wallet } from "ethers";
import { acceptOwnership, CANCUN_PROBE, deploy, requireCancun, verify } from "../../../oracle/src/commands/deploy";
import { chainError, CliError, EXIT, type DeploymentManifest } from "../../../oracle/src/commands/context";
import { rpcMessage } from "../../../oracle/src/internal/errors";
import { InferenceCoordinator__factory, Staking__factory } from "../../../typechain-types";

const ADMIN = ethers.ZeroHash;

/** A new key with gas money on the Hardhat network. */
async function fundedWallet(): Promise<Wallet> {
    const wallet = Wallet.createRandom().connect(ethers.provider);
    await ethers.provider.send("hardhat_setBalance", [wallet.address, "0x3635C9ADC5DEA00000"]); // 1,000 ETH
    return wallet as unknown as Wallet;
}

/** Runs a command with stdout captured (the commands print their report). */
async function quietly<T>(action: () => Promise<T>): Promise<T> {
    const write = process.stdout.write.bind(process.stdout);
    process.stdout.write = (() => true) as typeof process.stdout.write;
    try {
        return await action();
    } finally {
        process.stdout.write = write;
    }
}

/** The error a command throws, or a failure if it succeeds. */
async function refusal(action: () => Promise<unknown>): Promise<CliError> {
    const error = await quietly(action).then(
        () => expect.fail("expected the command to refuse"),
        (e: unknown) => e,
    );
    expect(error).to.be.instanceOf(CliError);
    return error as CliError;
}

describe("verity deploy: hand-over and read-back (in process)", function () {
    this.timeout(120_000);
    let deployer: Wallet;
    let path: string;
    const as = (wallet: Wallet) => ({
        deployment: path,
        json: true,
        connection: { provider: ethers.provider, signer: wallet },
    });
    const manifest = (): DeploymentManifest => JSON.parse(readFileSync(path, "utf8")) as DeploymentManifest;
    const contracts = () => {
        const m = manifest();
        return {
            coordinator: InferenceCoordinator__factory.connect(m.contracts.coordinator!.address, ethers.provider),
            staking: Staking__factory.connect(m.contracts.staking!.address, ethers.provider),
        };
    };

    beforeEach(async () => {
        deployer = await fundedWallet();
        path = join(mkdtempSync(join(tmpdir(), "verity-deploy-")), "deployment.json");
    });

    it("without an owner: the deployer keeps both powers and the manifest names it as owner", async () => {
        const report = await quietly(() => deploy(as(deployer)));
        expect(report.verified).to.equal(true);
        expect(report.ownership).to.deep.equal({
            owner: deployer.address,
            current: deployer.address,
            pendingOwner: null,
            deployerIsStakingAdmin: true,
        });
        expect(manifest().parameters.owner).to.equal(deployer.address);
    });

    it("resumes an interrupted hand-over: with the transfer sent, a re-run only renounces", async () => {
        const owner = await fundedWallet();
        await quietly(() => deploy(as(deployer)));
        const { coordinator, staking } = contracts();
        // The first step of a hand-over, as if the run had died right after it.
        await (await coordinator.connect(deployer).transferOwnership(owner.address)).wait();
        const nonce = await ethers.provider.getTransactionCount(deployer.address);
        const report = await quietly(() => deploy({ ...as(deployer), owner: owner.address }));
        expect(report.verified).to.equal(true);
        expect(await ethers.provider.getTransactionCount(deployer.address)).to.equal(nonce + 1); // the renounce alone
        expect(await staking.hasRole(ADMIN, deployer.address)).to.equal(false);
        expect(await coordinator.pendingOwner()).to.equal(owner.address);
    });

    it("re-points a pending hand-over to a corrected owner; the mistyped one can no longer accept", async () => {
        const typo = await fundedWallet();
        const owner = await fundedWallet();
        await quietly(() => deploy({ ...as(deployer), owner: typo.address }));
        const report = await quietly(() => deploy({ ...as(deployer), owner: owner.address }));
        expect(report.verified).to.equal(true);
        expect(report.ownership.pendingOwner).to.equal(owner.address);
        expect(manifest().parameters.owner).to.equal(owner.address);
        // Re-pointed, not undone: the deployer cannot name itself again.
        const back = await refusal(() => deploy({ ...as(deployer), owner: deployer.address }));
        expect(back.message).to.contain("the deployer cannot take it back");
        const refused = await refusal(() => acceptOwnership(as(typo)));
        expect(refused.exitCode).to.equal(EXIT.REFUSED);
        expect(refused.message).to.contain(`the pending owner is ${owner.address}`);
        await quietly(() => acceptOwnership(as(owner)));
        expect(await contracts().coordinator.owner()).to.equal(owner.address);
    });

    it("still verifies after the owner accepted and moved the coordinator on; a new --owner is then refused", async () => {
        const owner = await fundedWallet();
        const next = await fundedWallet();
        await quietly(() => deploy({ ...as(deployer), owner: owner.address }));
        await quietly(() => acceptOwnership(as(owner)));
        const { coordinator } = contracts();
        await (await coordinator.connect(owner).transferOwnership(next.address)).wait();
        await (await coordinator.connect(next).acceptOwnership()).wait();
        const rerun = await quietly(() => deploy(as(deployer)));
        expect(rerun.verified).to.equal(true);
        expect(rerun.ownership).to.include({
            current: next.address,
            pendingOwner: null,
            deployerIsStakingAdmin: false,
        });
        const before = readFileSync(path, "utf8");
        const refused = await refusal(() => deploy({ ...as(deployer), owner: deployer.address }));
        expect(refused.exitCode).to.equal(EXIT.REFUSED);
        expect(refused.message).to.contain(`is owned by ${next.address}, not this deployer`);
        expect(readFileSync(path, "utf8")).to.equal(before);
    });

    it("keeps the staking admin when the coordinator belongs to a third account, and says whose it is", async () => {
        const third = await fundedWallet();
        const owner = await fundedWallet();
        await quietly(() => deploy(as(deployer)));
        const { coordinator, staking } = contracts();
        await (await coordinator.connect(deployer).transferOwnership(third.address)).wait();
        await (await coordinator.connect(third).acceptOwnership()).wait();
        const refused = await refusal(() => deploy({ ...as(deployer), owner: owner.address }));
        expect(refused.exitCode).to.equal(EXIT.REFUSED);
        expect(refused.message).to.contain(`is owned by ${third.address}, not this deployer`);
        expect(await staking.hasRole(ADMIN, deployer.address)).to.equal(true);
        // Naming the account that owns it finishes the hand-over to it.
        const report = await quietly(() => deploy({ ...as(deployer), owner: third.address }));
        expect(report.verified).to.equal(true);
        expect(await staking.hasRole(ADMIN, deployer.address)).to.equal(false);
    });

    it("a plain re-run refuses, sending nothing, when the coordinator went to a third account mid-hand-over", async () => {
        const owner = await fundedWallet();
        const third = await fundedWallet();
        await quietly(() => deploy(as(deployer)));
        // A run with --owner that died after recording the owner and sending the transfer, before the renounce;
        // the owner then accepted and moved the coordinator on.
        const recorded = manifest();
        recorded.parameters.owner = owner.address;
        writeFileSync(path, `${JSON.stringify(recorded, null, 2)}\n`);
        const { coordinator, staking } = contracts();
        await (await coordinator.connect(deployer).transferOwnership(owner.address)).wait();
        await (await coordinator.connect(owner).acceptOwnership()).wait();
        await (await coordinator.connect(owner).transferOwnership(third.address)).wait();
        await (await coordinator.connect(third).acceptOwnership()).wait();
        const before = readFileSync(path, "utf8");
        const nonce = await ethers.provider.getTransactionCount(deployer.address);
        const refused = await refusal(() => deploy(as(deployer)));
        expect(refused.exitCode).to.equal(EXIT.REFUSED);
        expect(refused.message).to.contain(`is owned by ${third.address}, not ${owner.address} or this deployer`);
        expect(await staking.hasRole(ADMIN, deployer.address)).to.equal(true);
        expect(await ethers.provider.getTransactionCount(deployer.address)).to.equal(nonce);
        expect(readFileSync(path, "utf8")).to.equal(before);
    });

    it("a re-point that fails to send leaves the manifest as it was", async () => {
        const owner = await fundedWallet();
        const other = await fundedWallet();
        await quietly(() => deploy({ ...as(deployer), owner: owner.address }));
        const before = readFileSync(path, "utf8");
        await ethers.provider.send("hardhat_setBalance", [deployer.address, "0x0"]);
        const failed = await refusal(() => deploy({ ...as(deployer), owner: other.address }));
        expect(failed.exitCode).to.equal(EXIT.REFUSED);
        expect(readFileSync(path, "utf8")).to.equal(before);
        expect(await contracts().coordinator.pendingOwner()).to.equal(owner.address);
    });

    it("the owner's own changes (treasury, parameters, giving the coordinator back) still verify", async () => {
        const owner = await fundedWallet();
        await quietly(() => deploy({ ...as(deployer), owner: owner.address }));
        await quietly(() => acceptOwnership(as(owner)));
        const { coordinator } = contracts();
        await (await coordinator.connect(owner).setTreasury(owner.address)).wait();
        const p = await coordinator.getParams();
        const changed = {
            exclusiveWindowSeconds: p.exclusiveWindowSeconds,
            minDeadlineSeconds: p.minDeadlineSeconds,
            maxDeadlineSeconds: p.maxDeadlineSeconds,
            maxCallbackGasLimit: p.maxCallbackGasLimit,
            maxInputBytes: p.maxInputBytes,
            callbackGasFeeWei: p.callbackGasFeeWei,
            protocolFeeBps: 100n,
            challengerRewardBps: p.challengerRewardBps,
            failedChallengeOperatorBps: p.failedChallengeOperatorBps,
            challengeBondBps: p.challengeBondBps,
            minChallengeBondWei: p.minChallengeBondWei,
        };
        await (await coordinator.connect(owner).setParams(changed)).wait();
        const rerun = await quietly(() => deploy(as(deployer)));
        expect(rerun.verified).to.equal(true);
        // Given back to the deployer: a plain re-run verifies and does not start the hand-over again.
        await (await coordinator.connect(owner).transferOwnership(deployer.address)).wait();
        await (await coordinator.connect(deployer).acceptOwnership()).wait();
        const nonce = await ethers.provider.getTransactionCount(deployer.address);
        const back = await quietly(() => deploy(as(deployer)));
        expect(back.verified).to.equal(true);
        expect(await ethers.provider.getTransactionCount(deployer.address)).to.equal(nonce);
        expect(await coordinator.pendingOwner()).to.equal(ethers.ZeroAddress);
    });

    it("a recorded coordinator with no code (a reset chain): exit 1 saying so, also with --owner", async () => {
        const owner = await fundedWallet();
        await quietly(() => deploy(as(deployer)));
        const recorded = manifest();
        recorded.contracts.coordinator!.address = Wallet.createRandom().address;
        writeFileSync(path, `${JSON.stringify(recorded, null, 2)}\n`);
        const refused = await refusal(() => deploy({ ...as(deployer), owner: owner.address }));
        expect(refused.exitCode).to.equal(EXIT.USAGE);
        expect(refused.message).to.contain("but there is no code there (was the chain reset?)");
    });

    it("refuses the zero address as owner, from --owner or the parameters file, before anything is sent", async () => {
        const params = join(mkdtempSync(join(tmpdir(), "verity-deploy-")), "params.json");
        writeFileSync(params, JSON.stringify({ owner: ethers.ZeroAddress }));
        const nonce = await ethers.provider.getTransactionCount(deployer.address);
        const flag = await refusal(() => deploy({ ...as(deployer), owner: ethers.ZeroAddress }));
        expect(flag.message).to.contain("is not an address other than zero");
        const file = await refusal(() => deploy({ ...as(deployer), params }));
        expect(file.message).to.contain('"owner" must be an address other than zero');
        expect(await ethers.provider.getTransactionCount(deployer.address)).to.equal(nonce);
    });

    it("reads the owner from Ignition's nested file, $global included; names a module it does not know", async () => {
        const owner = await fundedWallet();
        const params = join(mkdtempSync(join(tmpdir(), "verity-deploy-")), "params.json");
        writeFileSync(
            params,
            JSON.stringify({
                $global: { protocolFeeBps: 100 },
                Verity: { protocolFeeBps: 250 },
                VerityHandover: { owner: owner.address },
            }),
        );
        const report = await quietly(() => deploy({ ...as(deployer), params }));
        expect(report.ownership.pendingOwner).to.equal(owner.address);
        expect(report.parameters.protocolFeeBps).to.equal(250); // the module's own value wins, as in Ignition
        const unknown = join(mkdtempSync(join(tmpdir(), "verity-deploy-")), "params.json");
        writeFileSync(unknown, JSON.stringify({ Verity: {}, VerityHandOver: { owner: owner.address } }));
        const refused = await refusal(() => deploy({ ...as(deployer), params: unknown, deployment: `${path}.2` }));
        expect(refused.message).to.contain('"VerityHandOver" is not one');
    });

    it("verify names each recorded fact the chain contradicts: an undone hand-over, a parameter", async () => {
        await quietly(() => deploy(as(deployer)));
        const m = manifest();
        expect(await verify(deployer, m)).to.deep.equal([]);
        const stranger = Wallet.createRandom().address;
        const problems = await verify(deployer, {
            ...m,
            parameters: { ...m.parameters, owner: stranger, protocolFeeBps: 7 },
        });
        expect(problems).to.have.members([
            `coordinator.pendingOwner is ${ethers.ZeroAddress}, want ${stranger}`,
            "deployer is the staking admin is true, want false",
            "coordinator.protocolFeeBps is 0, want 7",
        ]);
    });
});

describe("verity deploy: the chain must run Cancun", function () {
    it("passes the probe on a Cancun chain (TLOAD and MCOPY run)", async () => {
        expect(await ethers.provider.call({ data: CANCUN_PROBE })).to.equal("0x");
        await requireCancun(ethers.provider, 31337);
    });

    it("the same provider refuses an undefined opcode, so a chain without TLOAD/MCOPY fails the probe", async () => {
        // 0x0c is no opcode on any fork: what a pre-Cancun chain makes of 0x5c (TLOAD) and 0x5e (MCOPY).
        const error = await ethers.provider.call({ data: "0x0c" }).then(
            () => undefined,
            (e: unknown) => e,
        );
        expect(rpcMessage(error)).to.match(/invalid opcode/i);
    });

    it("refuses a chain that fails the probe, before sending anything, quoting what the RPC said", async () => {
        const sent: unknown[] = [];
        const preCancun = {
            call: async (tx: unknown) => {
                sent.push(tx);
                // How ethers' JsonRpcProvider reports an eth_call that the node rejected.
                throw Object.assign(new Error("missing revert data"), {
                    code: "CALL_EXCEPTION",
                    shortMessage: "missing revert data",
                    data: null,
                    info: { error: { code: -32000, message: "invalid opcode: TLOAD" } },
                });
            },
        };
        const refused = await requireCancun(preCancun, 5).then(
            () => undefined,
            (e: unknown) => e,
        );
        expect(refused).to.be.instanceOf(CliError);
        expect((refused as CliError).exitCode).to.equal(EXIT.REFUSED);
        expect((refused as Error).message).to.match(
            /^chain 5 does not run the Cancun upgrade \(transient storage, EIP-1153, and MCOPY, EIP-5656\).*The RPC said: invalid opcode: TLOAD$/,
        );
        expect(sent).to.deep.equal([{ data: CANCUN_PROBE }]);
    });

    it("a revert without data shows the RPC's own text instead of an opaque EmptyRevert", () => {
        const error = Object.assign(new Error("missing revert data"), {
            code: "CALL_EXCEPTION",
            shortMessage: "missing revert data",
            data: null,
            info: { error: { code: -32000, message: "invalid opcode: TLOAD" } },
        });
        expect(chainError(error, "depositing").message).to.equal(
            "depositing reverted without revert data; the RPC said: invalid opcode: TLOAD",
        );
    });
});
