import { expect } from "chai";
import hre, { ethers } from "hardhat";
import { loadFixture } from "@nomicfoundation/hardhat-network-helpers";
import VerityModule from "../../deploy/modules/Verity";
import VerityHandoverModule from "../../deploy/modules/VerityHandover";
import { DEFAULT_PARAMETERS } from "../../oracle/src/commands/deploy";
import { DEPLOYMENT_DEFAULTS } from "../../oracle/src/protocol/deploymentDefaults";
import { VerificationMode } from "../../oracle/src/protocol/verificationMode";

async function deployModule() {
    const [deployer, treasury] = await ethers.getSigners();
    if (deployer === undefined || treasury === undefined) throw new Error("need two accounts");
    const token = await ethers.deployContract("MockERC20", ["Stake", "STK"]);
    const deployed = await hre.ignition.deploy(VerityModule, {
        parameters: {
            Verity: {
                stakeToken: await token.getAddress(),
                treasury: await treasury.getAddress(),
                protocolFeeBps: 250,
            },
        },
    });
    // Ignition returns untyped contracts; re-attach the TypeChain types by address.
    const registry = await ethers.getContractAt("ModelRegistry", await deployed.registry.getAddress());
    const staking = await ethers.getContractAt("Staking", await deployed.staking.getAddress());
    const coordinator = await ethers.getContractAt("InferenceCoordinator", await deployed.coordinator.getAddress());
    const resolver = await ethers.getContractAt("ReexecutionResolver", await deployed.reexecutionResolver.getAddress());
    return { registry, staking, coordinator, resolver, deployed, token, deployer, treasury };
}

/** The module with nothing but the stake token given: every other value is the module's default. */
async function deployDefaults() {
    const token = await ethers.deployContract("MockERC20", ["Stake", "STK"]);
    const deployed = await hre.ignition.deploy(VerityModule, {
        parameters: { Verity: { stakeToken: await token.getAddress() } },
    });
    const registry = await ethers.getContractAt("ModelRegistry", await deployed.registry.getAddress());
    const staking = await ethers.getContractAt("Staking", await deployed.staking.getAddress());
    const coordinator = await ethers.getContractAt("InferenceCoordinator", await deployed.coordinator.getAddress());
    const resolver = await ethers.getContractAt("ReexecutionResolver", await deployed.reexecutionResolver.getAddress());
    return { registry, staking, coordinator, resolver };
}

/** Every parameter the module reads (`m.getParameter`), by name, with its default: found in its futures' arguments. */
function moduleParameters(module: typeof VerityModule): Map<string, unknown> {
    const found = new Map<string, unknown>();
    const walk = (value: unknown): void => {
        if (Array.isArray(value)) return value.forEach(walk);
        if (typeof value !== "object" || value === null) return;
        const o = value as Record<string, unknown>;
        if (o.type === "MODULE_PARAMETER" && typeof o.name === "string") found.set(o.name, o.defaultValue);
        // Plain objects only (struct arguments): futures passed as arguments are walked on their own.
        else if (Object.getPrototypeOf(value) === Object.prototype) Object.values(o).forEach(walk);
    };
    for (const future of module.futures) {
        const f = future as unknown as Record<string, unknown>;
        walk(f.constructorArgs);
        walk(f.args);
    }
    return found;
}

describe("deploy/modules/Verity (Ignition)", function () {
    it("takes every default from oracle/src/protocol/deploymentDefaults.ts, as verity deploy does", function () {
        const { stakeToken, treasury, ...defaults } = Object.fromEntries(moduleParameters(VerityModule));
        expect(stakeToken).to.equal(undefined); // required: no default
        expect(treasury).to.be.an("object"); // the deployer's account
        // The same names, values and types (bigints for wei amounts).
        expect(Object.keys(defaults)).to.have.members(Object.keys(DEPLOYMENT_DEFAULTS));
        expect(defaults).to.deep.equal(DEPLOYMENT_DEFAULTS);
        // verity deploy's, with the wei amounts as the decimal strings of its parameters file.
        const inFile = Object.fromEntries(
            Object.entries(defaults).map(([k, v]) => [k, typeof v === "bigint" ? String(v) : v]),
        );
        expect(DEFAULT_PARAMETERS).to.deep.equal(inFile);
        // In the table's order, the order its unknown-parameter error lists them in.
        expect(Object.keys(DEFAULT_PARAMETERS)).to.deep.equal(Object.keys(DEPLOYMENT_DEFAULTS));
    });

    it("has verity deploy's defaults, every one of them (DEFAULT_PARAMETERS)", async function () {
        const { registry, staking, coordinator, resolver } = await loadFixture(deployDefaults);
        const params = await coordinator.getParams();
        const onChain: Record<keyof typeof DEFAULT_PARAMETERS, bigint> = {
            minChallengeWindowSeconds: await registry.minChallengeWindowSeconds(),
            maxChallengeWindowSeconds: await registry.maxChallengeWindowSeconds(),
            minCollateralWei: await registry.minCollateralWei(),
            unbondingDelaySeconds: await staking.unbondingDelaySeconds(),
            disputeTimeoutSeconds: await coordinator.disputeTimeoutSeconds(),
            exclusiveWindowSeconds: params.exclusiveWindowSeconds,
            minDeadlineSeconds: params.minDeadlineSeconds,
            maxDeadlineSeconds: params.maxDeadlineSeconds,
            maxCallbackGasLimit: params.maxCallbackGasLimit,
            maxInputBytes: params.maxInputBytes,
            callbackGasFeeWei: params.callbackGasFeeWei,
            protocolFeeBps: params.protocolFeeBps,
            challengerRewardBps: params.challengerRewardBps,
            failedChallengeOperatorBps: params.failedChallengeOperatorBps,
            challengeBondBps: params.challengeBondBps,
            minChallengeBondWei: params.minChallengeBondWei,
            maxDisputeGas: await resolver.maxDisputeGas(),
            disputeGasPriceWei: await resolver.disputeGasPriceWei(),
        };
        const cli = Object.fromEntries(Object.entries(DEFAULT_PARAMETERS).map(([k, v]) => [k, BigInt(v)]));
        expect(onChain).to.deep.equal(cli);
    });

    it("charges for callback gas by default: 10^9 stake-token wei per gas unit, never 0", async function () {
        const { coordinator } = await loadFixture(deployDefaults);
        expect((await coordinator.getParams()).callbackGasFeeWei).to.equal(10n ** 9n);
    });

    it("wires the coordinator to the registry (and binds the registry to it), staking contract and stake token", async function () {
        const { coordinator, registry, staking, token } = await loadFixture(deployModule);
        expect(await coordinator.registry()).to.equal(await registry.getAddress());
        expect(await registry.coordinator()).to.equal(await coordinator.getAddress());
        expect(await coordinator.staking()).to.equal(await staking.getAddress());
        expect(await coordinator.token()).to.equal(await token.getAddress());
        expect(await staking.stakeToken()).to.equal(await token.getAddress());
    });

    it("sets the REEXECUTION resolver, wired to the registry, program store and executor", async function () {
        const { coordinator, registry, resolver, deployed } = await loadFixture(deployModule);
        expect(await coordinator.getResolver(VerificationMode.REEXECUTION)).to.equal(await resolver.getAddress());
        expect(await resolver.coordinator()).to.equal(await coordinator.getAddress());
        expect(await resolver.registry()).to.equal(await registry.getAddress());
        expect(await resolver.programStore()).to.equal(await deployed.programStore.getAddress());
        expect(await registry.programStore()).to.equal(await deployed.programStore.getAddress());
        expect(await resolver.executor()).to.equal(await deployed.executor.getAddress());
    });

    it("leaves the deployer owning the coordinator, with no hand-over pending (Ownable2Step)", async function () {
        const { coordinator, deployer } = await loadFixture(deployModule);
        expect(await coordinator.owner()).to.equal(await deployer.getAddress());
        expect(await coordinator.pendingOwner()).to.equal(ethers.ZeroAddress);
    });

    it("grants the coordinator, and only it, the staking role (SLASHER_ROLE)", async function () {
        const { coordinator, staking, deployer } = await loadFixture(deployModule);
        const role = await staking.SLASHER_ROLE();
        expect(await staking.hasRole(role, await coordinator.getAddress())).to.equal(true);
        expect(await staking.hasRole(role, await deployer.getAddress())).to.equal(false);
    });

    it("applies parameters and their defaults, and keeps unbonding longer than window + dispute", async function () {
        const { coordinator, registry, staking, treasury } = await loadFixture(deployModule);
        const params = await coordinator.getParams();
        expect(params.protocolFeeBps).to.equal(250n);
        expect(params.challengerRewardBps).to.equal(5_000n);
        expect(await coordinator.treasury()).to.equal(await treasury.getAddress());
        const unbonding = await staking.unbondingDelaySeconds();
        const longest = (await registry.maxChallengeWindowSeconds()) + (await coordinator.disputeTimeoutSeconds());
        expect(unbonding > longest).to.equal(true);
    });
});

async function deployHandover() {
    const [deployer, , owner] = await ethers.getSigners();
    if (deployer === undefined || owner === undefined) throw new Error("need three accounts");
    const token = await ethers.deployContract("MockERC20", ["Stake", "STK"]);
    const deployed = await hre.ignition.deploy(VerityHandoverModule, {
        parameters: {
            Verity: { stakeToken: await token.getAddress() },
            VerityHandover: { owner: await owner.getAddress() },
        },
    });
    const staking = await ethers.getContractAt("Staking", await deployed.staking.getAddress());
    const coordinator = await ethers.getContractAt("InferenceCoordinator", await deployed.coordinator.getAddress());
    return { staking, coordinator, deployed, deployer, owner };
}

describe("deploy/modules/VerityHandover (Ignition)", function () {
    it("deploys and wires Verity first: the resolver is set and the coordinator holds the staking role", async function () {
        const { coordinator, staking, deployed } = await loadFixture(deployHandover);
        expect(await coordinator.getResolver(VerificationMode.REEXECUTION)).to.equal(
            await deployed.reexecutionResolver.getAddress(),
        );
        expect(await staking.hasRole(await staking.SLASHER_ROLE(), await coordinator.getAddress())).to.equal(true);
    });

    it("makes the owner the coordinator's pending owner; it takes over only by accepting", async function () {
        const { coordinator, deployer, owner } = await loadFixture(deployHandover);
        expect(await coordinator.owner()).to.equal(await deployer.getAddress());
        expect(await coordinator.pendingOwner()).to.equal(await owner.getAddress());
        await coordinator.connect(owner).acceptOwnership();
        expect(await coordinator.owner()).to.equal(await owner.getAddress());
        await expect(coordinator.connect(deployer).setResolver(VerificationMode.BISECTION, await deployer.getAddress()))
            .to.be.revertedWithCustomError(coordinator, "OwnableUnauthorizedAccount")
            .withArgs(await deployer.getAddress());
    });

    it("leaves nobody able to grant the staking roles: the deployer renounced the admin", async function () {
        const { staking, deployer, owner } = await loadFixture(deployHandover);
        const admin = await staking.DEFAULT_ADMIN_ROLE();
        expect(await staking.hasRole(admin, await deployer.getAddress())).to.equal(false);
        expect(await staking.hasRole(admin, await owner.getAddress())).to.equal(false);
        for (const account of [deployer, owner]) {
            await expect(staking.connect(account).grantRole(await staking.SLASHER_ROLE(), await account.getAddress()))
                .to.be.revertedWithCustomError(staking, "AccessControlUnauthorizedAccount")
                .withArgs(await account.getAddress(), admin);
        }
    });
});
