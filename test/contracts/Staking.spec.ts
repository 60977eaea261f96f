import { expect } from "chai";
import { ethers } from "hardhat";
import { loadFixture, time } from "@nomicfoundation/hardhat-network-helpers";
import type { Signer } from "ethers";
import {
    MODEL_COLLATERAL,
    OUTPUT,
    TOKEN,
    UNBONDING_DELAY,
    deployCore,
    fund,
    registerModel,
    sendRequest,
    submit,
    type Deployment,
} from "../helpers/verity";
import { minedAt } from "../helpers/disputes";

const STAKE = 100n * TOKEN;

/**
 * Registry, staking and a model, with three operators holding (not yet staking) STAKE tokens approved to the
 * staking contract, and a `keeper` that holds SLASHER_ROLE so `slash` can be driven directly (in
 * production only the coordinator holds it). Collateral is locked the way production locks it: by the coordinator,
 * when an operator submits a result (`lockCollateral` below).
 */
async function deployStaking() {
    const core = await deployCore();
    const modelId = await registerModel(core.registry, core.publisher);
    const [keeper, stranger, ...rest] = core.others;
    await core.staking.grantRole(await core.staking.SLASHER_ROLE(), await keeper!.getAddress());
    for (const op of core.operators) {
        await core.token.mint(await op.getAddress(), STAKE);
        await core.token.connect(op).approve(await core.staking.getAddress(), STAKE);
    }
    return { ...core, modelId, keeper: keeper!, stranger: stranger!, rest };
}

/** deployStaking with every operator staked (STAKE) and registered for the model, in operator order. */
async function deployStaked() {
    const d = await deployStaking();
    for (const op of d.operators) {
        await d.staking.connect(op).stake(STAKE);
        await d.staking.connect(op).registerForModel(d.modelId);
    }
    return d;
}

let lockModels = 0;

/**
 * Locks `amountWei` of `op`'s stake as production does: `op` registers for a fresh model whose collateral is
 * `amountWei` and submits a result to a request that prefers it, so the coordinator locks that collateral.
 */
async function lockCollateral(d: Deployment, op: Signer, amountWei: bigint): Promise<void> {
    const modelId = await registerModel(d.registry, d.publisher, {
        salt: ethers.id(`lock model ${lockModels++}`),
        collateralWei: amountWei,
    });
    await d.staking.connect(op).registerForModel(modelId);
    await fund(d, await d.consumer.getAddress());
    const request = await sendRequest({ ...d, modelId }, { preferred: await op.getAddress() });
    await submit({ ...d, modelId }, request, OUTPUT, { operator: op });
}

async function addresses(signers: Signer[]): Promise<string[]> {
    return Promise.all(signers.map((s) => s.getAddress()));
}

describe("Staking", function () {
    describe("constructor", function () {
        it("rejects a zero unbonding delay (StakingInvalidUnbondingDelay)", async function () {
            const d = await loadFixture(deployStaking);
            const factory = await ethers.getContractFactory("Staking");
            await expect(factory.deploy(d.token, d.registry, 0, d.admin)).to.be.revertedWithCustomError(
                factory,
                "StakingInvalidUnbondingDelay",
            );
            const staking = await factory.deploy(d.token, d.registry, 1, d.admin);
            expect(await staking.unbondingDelaySeconds()).to.equal(1n);
            expect(await staking.stakeToken()).to.equal(await d.token.getAddress());
        });
    });

    describe("stake", function () {
        it("pulls the tokens, credits active stake and emits StakeDeposited", async function () {
            const d = await loadFixture(deployStaking);
            const op = d.operators[0]!;
            const operator = await op.getAddress();
            const tx = d.staking.connect(op).stake(STAKE / 4n);
            await expect(tx)
                .to.emit(d.staking, "StakeDeposited")
                .withArgs(operator, STAKE / 4n);
            await expect(tx).to.changeTokenBalances(d.token, [operator, d.staking], [-STAKE / 4n, STAKE / 4n]);
            await d.staking.connect(op).stake(STAKE / 4n);
            const stake = await d.staking.getStake(operator);
            expect(stake.stakedWei).to.equal(STAKE / 2n);
            expect(stake.lockedWei).to.equal(0n);
            expect(stake.unbondingWei).to.equal(0n);
            expect(await d.staking.freeStake(operator)).to.equal(STAKE / 2n);
        });

        it("rejects zero amounts (StakingZeroAmount)", async function () {
            const d = await loadFixture(deployStaked);
            await expect(d.staking.connect(d.operators[0]!).stake(0)).to.be.revertedWithCustomError(
                d.staking,
                "StakingZeroAmount",
            );
            await expect(d.staking.connect(d.operators[0]!).requestUnbonding(0)).to.be.revertedWithCustomError(
                d.staking,
                "StakingZeroAmount",
            );
        });

        it("rejects stake beyond 96 bits (StakingAmountTooLarge)", async function () {
            const d = await loadFixture(deployStaking);
            const whale = d.rest[0]!;
            const max = 2n ** 96n - 1n;
            await d.token.mint(await whale.getAddress(), max + 1n);
            await d.token.connect(whale).approve(await d.staking.getAddress(), max + 1n);
            await expect(d.staking.connect(whale).stake(max + 1n))
                .to.be.revertedWithCustomError(d.staking, "StakingAmountTooLarge")
                .withArgs(max + 1n, max);
        });
    });

    describe("unbonding and withdrawal", function () {
        it("rejects unbonding beyond 96 bits instead of truncating (StakingAmountTooLarge)", async function () {
            const d = await loadFixture(deployStaking);
            const whale = d.rest[0]!;
            const max = 2n ** 96n - 1n;
            await d.token.mint(await whale.getAddress(), 2n * max);
            await d.token.connect(whale).approve(await d.staking.getAddress(), 2n * max);
            await d.staking.connect(whale).stake(max);
            await d.staking.connect(whale).requestUnbonding(max);
            await d.staking.connect(whale).stake(max);
            await expect(d.staking.connect(whale).requestUnbonding(max))
                .to.be.revertedWithCustomError(d.staking, "StakingAmountTooLarge")
                .withArgs(2n * max, max);
            expect((await d.staking.getStake(await whale.getAddress())).unbondingWei).to.equal(max);
        });

        it("moves free stake to unbonding, withdrawable after the delay (UnbondingStarted, StakeWithdrawn)", async function () {
            const d = await loadFixture(deployStaked);
            const op = d.operators[0]!;
            const operator = await op.getAddress();
            const to = await d.stranger.getAddress();
            const tx = await d.staking.connect(op).requestUnbonding(STAKE / 4n);
            const readyAt = (await minedAt(tx)) + UNBONDING_DELAY;
            await expect(tx)
                .to.emit(d.staking, "UnbondingStarted")
                .withArgs(operator, STAKE / 4n, STAKE / 4n, readyAt);
            let stake = await d.staking.getStake(operator);
            expect(stake.stakedWei).to.equal((3n * STAKE) / 4n);
            expect(stake.unbondingWei).to.equal(STAKE / 4n);
            expect(stake.unbondingReadyAt).to.equal(BigInt(readyAt));
            expect(await d.staking.freeStake(operator)).to.equal((3n * STAKE) / 4n);

            await time.setNextBlockTimestamp(readyAt - 1);
            await expect(d.staking.connect(op).withdrawUnbonded(to))
                .to.be.revertedWithCustomError(d.staking, "StakingUnbondingNotReady")
                .withArgs(readyAt - 1, readyAt);

            await time.setNextBlockTimestamp(readyAt);
            const withdrawal = d.staking.connect(op).withdrawUnbonded(to);
            await expect(withdrawal)
                .to.emit(d.staking, "StakeWithdrawn")
                .withArgs(operator, to, STAKE / 4n);
            await expect(withdrawal).to.changeTokenBalances(d.token, [d.staking, to], [-STAKE / 4n, STAKE / 4n]);
            stake = await d.staking.getStake(operator);
            expect(stake.stakedWei).to.equal((3n * STAKE) / 4n);
            expect(stake.unbondingWei).to.equal(0n);
            expect(stake.unbondingReadyAt).to.equal(0n);
        });

        it("returns the withdrawn amount", async function () {
            const d = await loadFixture(deployStaked);
            const op = d.operators[0]!;
            await d.staking.connect(op).requestUnbonding(STAKE);
            await time.increase(UNBONDING_DELAY);
            expect(await d.staking.connect(op).withdrawUnbonded.staticCall(await op.getAddress())).to.equal(STAKE);
        });

        it("reverts when nothing is unbonding (StakingNothingToWithdraw)", async function () {
            const d = await loadFixture(deployStaked);
            const op = d.operators[0]!;
            await expect(d.staking.connect(op).withdrawUnbonded(await op.getAddress())).to.be.revertedWithCustomError(
                d.staking,
                "StakingNothingToWithdraw",
            );
        });

        it("unbonds only free stake, never locked collateral (StakingInsufficientFreeStake)", async function () {
            const d = await loadFixture(deployStaked);
            const op = d.operators[0]!;
            const operator = await op.getAddress();
            await lockCollateral(d, op, MODEL_COLLATERAL);
            await expect(d.staking.connect(op).requestUnbonding(STAKE - MODEL_COLLATERAL + 1n))
                .to.be.revertedWithCustomError(d.staking, "StakingInsufficientFreeStake")
                .withArgs(STAKE - MODEL_COLLATERAL, STAKE - MODEL_COLLATERAL + 1n);
            await d.staking.connect(op).requestUnbonding(STAKE - MODEL_COLLATERAL);
            expect(await d.staking.freeStake(operator)).to.equal(0n);
            expect((await d.staking.getStake(operator)).lockedWei).to.equal(MODEL_COLLATERAL);
        });

        it("restarts the delay for all unbonding stake on each requestUnbonding", async function () {
            const d = await loadFixture(deployStaked);
            const op = d.operators[0]!;
            const operator = await op.getAddress();
            const first = await d.staking.connect(op).requestUnbonding(10n * TOKEN);
            const firstReadyAt = (await minedAt(first)) + UNBONDING_DELAY;

            await time.increase(UNBONDING_DELAY / 2);
            const second = await d.staking.connect(op).requestUnbonding(5n * TOKEN);
            const secondReadyAt = (await minedAt(second)) + UNBONDING_DELAY;
            expect(secondReadyAt).to.be.greaterThan(firstReadyAt);
            await expect(second)
                .to.emit(d.staking, "UnbondingStarted")
                .withArgs(operator, 5n * TOKEN, 15n * TOKEN, secondReadyAt);
            expect((await d.staking.getStake(operator)).unbondingReadyAt).to.equal(BigInt(secondReadyAt));

            await time.setNextBlockTimestamp(firstReadyAt);
            await expect(d.staking.connect(op).withdrawUnbonded(operator))
                .to.be.revertedWithCustomError(d.staking, "StakingUnbondingNotReady")
                .withArgs(firstReadyAt, secondReadyAt);
            await time.setNextBlockTimestamp(secondReadyAt);
            await expect(d.staking.connect(op).withdrawUnbonded(operator))
                .to.emit(d.staking, "StakeWithdrawn")
                .withArgs(operator, operator, 15n * TOKEN);
        });
    });

    describe("registerForModel and unregisterFromModel", function () {
        /**
         * The storage key of the coordinator's one-slot record of `modelId` (its terms and operator count), found by
         * looking for the model's fee and collateral in the low 192 bits, so that nothing here hard-codes the layout.
         */
        async function modelSlotKey(d: Deployment): Promise<string> {
            const coordinator = await d.coordinator.getAddress();
            const { terms } = await d.registry.getModel(d.modelId);
            const want = BigInt(terms.feeWei) | (BigInt(terms.collateralWei) << 96n);
            for (let base = 0; base < 128; base++) {
                const key = ethers.keccak256(
                    ethers.AbiCoder.defaultAbiCoder().encode(["bytes32", "uint256"], [d.modelId, base]),
                );
                const word = BigInt(await ethers.provider.getStorage(coordinator, key));
                if ((word & ((1n << 192n) - 1n)) === want) return key;
            }
            throw new Error("the model's slot was not found");
        }

        it("keeps the set's size next to the model's terms, and refuses one more than 2^24 - 1 (StakingOperatorSetFull)", async function () {
            const d = await loadFixture(deployStaked);
            const coordinator = await d.coordinator.getAddress();
            const key = await modelSlotKey(d);
            const word = BigInt(await ethers.provider.getStorage(coordinator, key));
            expect(word >> 232n).to.equal(3n);
            // Pretend the set is full (registering 2^24 - 1 operators would take years).
            const full = (word & ((1n << 232n) - 1n)) | (0xffffffn << 232n);
            await ethers.provider.send("hardhat_setStorageAt", [coordinator, key, ethers.toBeHex(full, 32)]);
            const op = d.rest[0]!;
            await d.token.mint(await op.getAddress(), STAKE);
            await d.token.connect(op).approve(await d.staking.getAddress(), STAKE);
            await d.staking.connect(op).stake(STAKE);
            await expect(d.staking.connect(op).registerForModel(d.modelId))
                .to.be.revertedWithCustomError(d.staking, "StakingOperatorSetFull")
                .withArgs(d.modelId, 0xffffff);
        });

        it("keeps the operator set when the registry rewrites the model's terms (a fee change)", async function () {
            const d = await loadFixture(deployStaked);
            const before = await d.staking.getOperators(d.modelId);
            await d.registry.connect(d.publisher).setModelFee(d.modelId, 12345n);
            expect(await d.staking.getOperators(d.modelId)).to.deep.equal(before);
            expect((await d.registry.getModel(d.modelId)).terms.feeWei).to.equal(12345n);
            const key = await modelSlotKey(d);
            expect(BigInt(await ethers.provider.getStorage(await d.coordinator.getAddress(), key)) >> 232n).to.equal(
                3n,
            );
            // The rotation still draws from the whole set.
            await fund(d, await d.consumer.getAddress());
            const request = await sendRequest(d);
            expect(request.assignedOperator).to.equal(before[Number(BigInt(request.requestId) % 3n)]);
        });

        it("registers an operator with enough stake (OperatorRegistered)", async function () {
            const d = await loadFixture(deployStaking);
            const op = d.operators[0]!;
            const operator = await op.getAddress();
            await d.staking.connect(op).stake(MODEL_COLLATERAL);
            await expect(d.staking.connect(op).registerForModel(d.modelId))
                .to.emit(d.staking, "OperatorRegistered")
                .withArgs(operator, d.modelId);
            expect(await d.staking.isRegistered(d.modelId, operator)).to.equal(true);
            expect(await d.staking.getOperators(d.modelId)).to.deep.equal([operator]);
        });

        it("rejects stake below the model's collateral (StakingStakeBelowCollateral)", async function () {
            const d = await loadFixture(deployStaking);
            const op = d.operators[0]!;
            await expect(d.staking.connect(op).registerForModel(d.modelId))
                .to.be.revertedWithCustomError(d.staking, "StakingStakeBelowCollateral")
                .withArgs(0, MODEL_COLLATERAL);
            await d.staking.connect(op).stake(MODEL_COLLATERAL - 1n);
            await expect(d.staking.connect(op).registerForModel(d.modelId))
                .to.be.revertedWithCustomError(d.staking, "StakingStakeBelowCollateral")
                .withArgs(MODEL_COLLATERAL - 1n, MODEL_COLLATERAL);
        });

        it("rejects a deactivated model (StakingModelInactive) and an unknown one (ModelRegistryUnknownModel)", async function () {
            const d = await loadFixture(deployStaking);
            const op = d.operators[0]!;
            await d.staking.connect(op).stake(STAKE);
            await d.registry.connect(d.publisher).deactivateModel(d.modelId);
            await expect(d.staking.connect(op).registerForModel(d.modelId))
                .to.be.revertedWithCustomError(d.staking, "StakingModelInactive")
                .withArgs(d.modelId);
            const unknown = ethers.id("no such model");
            await expect(d.staking.connect(op).registerForModel(unknown))
                .to.be.revertedWithCustomError(d.registry, "ModelRegistryUnknownModel")
                .withArgs(unknown);
        });

        it("rejects a second registration (StakingAlreadyRegistered)", async function () {
            const d = await loadFixture(deployStaked);
            const op = d.operators[1]!;
            await expect(d.staking.connect(op).registerForModel(d.modelId))
                .to.be.revertedWithCustomError(d.staking, "StakingAlreadyRegistered")
                .withArgs(await op.getAddress(), d.modelId);
        });

        it("rejects unregistering when not registered (StakingNotRegistered)", async function () {
            const d = await loadFixture(deployStaked);
            await expect(d.staking.connect(d.stranger).unregisterFromModel(d.modelId))
                .to.be.revertedWithCustomError(d.staking, "StakingNotRegistered")
                .withArgs(await d.stranger.getAddress(), d.modelId);
            const op = d.operators[0]!;
            await d.staking.connect(op).unregisterFromModel(d.modelId);
            await expect(d.staking.connect(op).unregisterFromModel(d.modelId))
                .to.be.revertedWithCustomError(d.staking, "StakingNotRegistered")
                .withArgs(await op.getAddress(), d.modelId);
        });

        it("swap-and-pop keeps the operator set and isRegistered consistent", async function () {
            const d = await loadFixture(deployStaked);
            const [a, b, c] = await addresses(d.operators);
            const [opA, opB, opC] = [d.operators[0]!, d.operators[1]!, d.operators[2]!];
            const expectSet = async (want: string[]) => {
                expect(await d.staking.getOperators(d.modelId)).to.deep.equal(want);
                for (const operator of [a!, b!, c!]) {
                    expect(await d.staking.isRegistered(d.modelId, operator)).to.equal(want.includes(operator));
                }
            };
            await expectSet([a!, b!, c!]);

            // Removing the first moves the last into its slot.
            await expect(d.staking.connect(opA).unregisterFromModel(d.modelId))
                .to.emit(d.staking, "OperatorUnregistered")
                .withArgs(a, d.modelId);
            await expectSet([c!, b!]);

            // The moved operator's position was updated: removing it removes it, not someone else.
            await d.staking.connect(opC).unregisterFromModel(d.modelId);
            await expectSet([b!]);

            await d.staking.connect(opA).registerForModel(d.modelId);
            await d.staking.connect(opC).registerForModel(d.modelId);
            await expectSet([b!, a!, c!]);

            // Removing the last is a plain pop.
            await d.staking.connect(opC).unregisterFromModel(d.modelId);
            await expectSet([b!, a!]);
            await d.staking.connect(opB).unregisterFromModel(d.modelId);
            await expectSet([a!]);
            await d.staking.connect(opA).unregisterFromModel(d.modelId);
            await expectSet([]);
            await d.staking.connect(opB).registerForModel(d.modelId);
            await expectSet([b!]);
        });

        it("operatorAt is seed modulo the operator count, and the zero address with no operators", async function () {
            const d = await loadFixture(deployStaked);
            const operators = await d.staking.getOperators(d.modelId);
            expect(operators.length).to.equal(3);
            for (const seed of [0n, 1n, 2n, 3n, 4n, 5n, 2n ** 255n + 7n, 2n ** 256n - 1n]) {
                expect(await d.staking.operatorAt(d.modelId, seed)).to.equal(operators[Number(seed % 3n)]);
            }
            const other = ethers.id("empty model");
            expect(await d.staking.operatorAt(other, 12345n)).to.equal(ethers.ZeroAddress);
        });

        it("assignedOperator is the rotation's pick while its free stake covers the collateral, else none", async function () {
            const d = await loadFixture(deployStaked);
            const seed = 7n;
            const pick = await d.staking.operatorAt(d.modelId, seed);
            expect(pick).to.not.equal(ethers.ZeroAddress);
            expect(await d.staking.assignedOperator(d.modelId, seed, STAKE)).to.equal(pick);
            // Locked collateral is not free: the pick that cannot lock another MODEL_COLLATERAL is skipped.
            const pickSigner = d.operators[(await addresses(d.operators)).indexOf(pick)]!;
            await lockCollateral(d, pickSigner, STAKE - MODEL_COLLATERAL + 1n);
            expect(await d.staking.assignedOperator(d.modelId, seed, MODEL_COLLATERAL)).to.equal(ethers.ZeroAddress);
            expect(await d.staking.assignedOperator(d.modelId, seed, MODEL_COLLATERAL - 1n)).to.equal(pick);
            expect(await d.staking.assignedOperator(ethers.id("empty model"), seed, 0n)).to.equal(ethers.ZeroAddress);
        });

        it("evict removes an operator whose active stake fell below the collateral, for anyone (OperatorEvicted)", async function () {
            const d = await loadFixture(deployStaked);
            const op = d.operators[1]!;
            const operator = await op.getAddress();
            await expect(d.staking.connect(d.stranger).evict(d.modelId, operator))
                .to.be.revertedWithCustomError(d.staking, "StakingNotEvictable")
                .withArgs(operator, d.modelId, STAKE, MODEL_COLLATERAL);
            // Unbonding leaves exactly the collateral: still not evictable; one wei less is.
            await d.staking.connect(op).requestUnbonding(STAKE - MODEL_COLLATERAL);
            await expect(d.staking.connect(d.stranger).evict(d.modelId, operator)).to.be.revertedWithCustomError(
                d.staking,
                "StakingNotEvictable",
            );
            await d.staking.connect(op).requestUnbonding(1n);
            await expect(d.staking.connect(d.stranger).evict(d.modelId, operator))
                .to.emit(d.staking, "OperatorEvicted")
                .withArgs(operator, d.modelId, MODEL_COLLATERAL - 1n, MODEL_COLLATERAL);
            expect(await d.staking.isRegistered(d.modelId, operator)).to.equal(false);
            const [a, , c] = await addresses(d.operators);
            expect(await d.staking.getOperators(d.modelId)).to.deep.equal([a, c]);
            await expect(d.staking.connect(d.stranger).evict(d.modelId, operator))
                .to.be.revertedWithCustomError(d.staking, "StakingNotRegistered")
                .withArgs(operator, d.modelId);
        });

        it("evict: locked collateral counts as stake, a slash below the collateral makes room, deactivation does not", async function () {
            const d = await loadFixture(deployStaked);
            const [a, b, c] = await addresses(d.operators);
            // Busy, not short: all but one wei of a's stake locked by results in flight.
            await lockCollateral(d, d.operators[0]!, STAKE - 1n);
            await expect(d.staking.evict(d.modelId, a!))
                .to.be.revertedWithCustomError(d.staking, "StakingNotEvictable")
                .withArgs(a!, d.modelId, STAKE, MODEL_COLLATERAL);
            // A slash that leaves b below the collateral makes it evictable.
            await d.staking.connect(d.keeper).slash(b!, STAKE - MODEL_COLLATERAL + 1n);
            await expect(d.staking.evict(d.modelId, b!))
                .to.emit(d.staking, "OperatorEvicted")
                .withArgs(b!, d.modelId, MODEL_COLLATERAL - 1n, MODEL_COLLATERAL);
            // A deactivated model's operators still serve its requests in flight: not evictable for that.
            await d.registry.connect(d.publisher).deactivateModel(d.modelId);
            await expect(d.staking.connect(d.stranger).evict(d.modelId, c!))
                .to.be.revertedWithCustomError(d.staking, "StakingNotEvictable")
                .withArgs(c!, d.modelId, STAKE, MODEL_COLLATERAL);
            expect(await d.staking.getOperators(d.modelId)).to.deep.equal([a, c]);
        });

        it("keeps locked collateral when an operator unregisters, and backs no new result of that model", async function () {
            const d = await loadFixture(deployStaked);
            const op = d.operators[0]!;
            const operator = await op.getAddress();
            await lockCollateral(d, op, MODEL_COLLATERAL);
            await d.staking.connect(op).unregisterFromModel(d.modelId);
            expect((await d.staking.getStake(operator)).lockedWei).to.equal(MODEL_COLLATERAL);
            expect(await d.staking.isRegistered(d.modelId, operator)).to.equal(false);
            // A request may not prefer it any more: the assignee must be registered when the request is made.
            await fund(d, await d.consumer.getAddress());
            await expect(sendRequest(d, { preferred: operator }))
                .to.be.revertedWithCustomError(d.coordinator, "StakingNotRegistered")
                .withArgs(operator, d.modelId);
        });
    });

    describe("roles", function () {
        it("gates slash (AccessControlUnauthorizedAccount)", async function () {
            const d = await loadFixture(deployStaked);
            const operator = await d.operators[0]!.getAddress();
            const stranger = await d.stranger.getAddress();
            const slasher = await d.staking.SLASHER_ROLE();
            const asStranger = d.staking.connect(d.stranger);
            await expect(asStranger.slash(operator, 1))
                .to.be.revertedWithCustomError(d.staking, "AccessControlUnauthorizedAccount")
                .withArgs(stranger, slasher);
            // The operator itself holds no role either.
            await expect(d.staking.connect(d.operators[0]!).slash(operator, 1))
                .to.be.revertedWithCustomError(d.staking, "AccessControlUnauthorizedAccount")
                .withArgs(operator, slasher);
        });

        it("grants SLASHER_ROLE to the coordinator at deployment and to no random account", async function () {
            const d = await loadFixture(deployStaking);
            const coordinator = await d.coordinator.getAddress();
            expect(await d.staking.hasRole(await d.staking.SLASHER_ROLE(), coordinator)).to.equal(true);
            expect(await d.staking.hasRole(await d.staking.SLASHER_ROLE(), await d.stranger.getAddress())).to.equal(
                false,
            );
        });
    });

    describe("free stake, kept by the coordinator", function () {
        /** Staking's and the coordinator's views of `operator` agree: free + locked == active stake. */
        async function expectStake(d: Deployment, operator: string, staked: bigint, locked: bigint) {
            const stake = await d.staking.getStake(operator);
            expect(stake.stakedWei).to.equal(staked);
            expect(stake.lockedWei).to.equal(locked);
            expect(await d.staking.freeStake(operator)).to.equal(staked - locked);
            expect(await d.coordinator.freeStakeOf(operator)).to.equal(staked - locked);
        }

        it("follows every change of active stake: deposit, lock, unbonding, slash, release", async function () {
            const d = await loadFixture(deployStaking);
            const op = d.operators[0]!;
            const operator = await op.getAddress();
            await expectStake(d, operator, 0n, 0n);
            await d.staking.connect(op).stake(STAKE);
            await expectStake(d, operator, STAKE, 0n);
            await d.staking.connect(op).registerForModel(d.modelId);
            await lockCollateral(d, op, 30n * TOKEN);
            await expectStake(d, operator, STAKE, 30n * TOKEN);
            await d.staking.connect(op).requestUnbonding(10n * TOKEN);
            await expectStake(d, operator, STAKE - 10n * TOKEN, 30n * TOKEN);
            await d.staking.connect(d.keeper).slash(operator, 5n * TOKEN);
            await expectStake(d, operator, STAKE - 15n * TOKEN, 30n * TOKEN);
            // Unbonding more than is free is refused: the lock stays covered.
            await expect(d.staking.connect(op).requestUnbonding(STAKE - 45n * TOKEN + 1n))
                .to.be.revertedWithCustomError(d.staking, "StakingInsufficientFreeStake")
                .withArgs(STAKE - 45n * TOKEN, STAKE - 45n * TOKEN + 1n);
        });

        it("is released to free stake when the locked result settles", async function () {
            const d = await loadFixture(deployStaked);
            const op = d.operators[0]!;
            const operator = await op.getAddress();
            const modelId = await registerModel(d.registry, d.publisher, {
                salt: ethers.id("settle model"),
                collateralWei: 30n * TOKEN,
            });
            await d.staking.connect(op).registerForModel(modelId);
            await fund(d, await d.consumer.getAddress());
            const request = await sendRequest({ ...d, modelId }, { preferred: operator });
            const submitted = await submit({ ...d, modelId }, request, OUTPUT, { operator: op });
            await expectStake(d, operator, STAKE, 30n * TOKEN);
            await time.increaseTo(Number(submitted.challengeEndsAt));
            await d.coordinator.finalize(submitted, OUTPUT);
            await expectStake(d, operator, STAKE, 0n);
        });

        it("cannot be moved, nor an operator set edited, by anyone but the staking contract (CoordinatorNotStaking)", async function () {
            const d = await loadFixture(deployStaked);
            const stranger = d.coordinator.connect(d.stranger);
            const who = await d.stranger.getAddress();
            await expect(stranger.creditFreeStake(who, STAKE))
                .to.be.revertedWithCustomError(d.coordinator, "CoordinatorNotStaking")
                .withArgs(who);
            const operator = await d.operators[0]!.getAddress();
            await expect(stranger.debitFreeStake(operator, 1n))
                .to.be.revertedWithCustomError(d.coordinator, "CoordinatorNotStaking")
                .withArgs(who);
            await expect(stranger.setRegistered(d.modelId, who, true))
                .to.be.revertedWithCustomError(d.coordinator, "CoordinatorNotStaking")
                .withArgs(who);
            await expect(stranger.setRegistered(d.modelId, operator, false))
                .to.be.revertedWithCustomError(d.coordinator, "CoordinatorNotStaking")
                .withArgs(who);
            // The admin of the staking contract is no exception.
            await expect(d.coordinator.connect(d.admin).creditFreeStake(who, 1n))
                .to.be.revertedWithCustomError(d.coordinator, "CoordinatorNotStaking")
                .withArgs(await d.admin.getAddress());
        });

        it("a staking contract whose registry has no coordinator yet takes no stake (StakingCoordinatorNotBound)", async function () {
            const d = await loadFixture(deployStaking);
            const registry = await ethers.deployContract("ModelRegistry", [60, 86_400, TOKEN / 10n, d.programStore]);
            const staking = await ethers.deployContract("Staking", [d.token, registry, 1, d.admin]);
            const op = d.operators[0]!;
            await d.token.connect(op).approve(await staking.getAddress(), STAKE);
            await expect(staking.connect(op).stake(STAKE)).to.be.revertedWithCustomError(
                staking,
                "StakingCoordinatorNotBound",
            );
            await expect(staking.connect(op).registerForModel(d.modelId)).to.be.reverted;
            expect(await staking.freeStake(await op.getAddress())).to.equal(0n);
            expect(await staking.getOperators(d.modelId)).to.deep.equal([]);
            expect(await staking.isRegistered(d.modelId, await op.getAddress())).to.equal(false);
            expect(await staking.operatorAt(d.modelId, 1n)).to.equal(ethers.ZeroAddress);
            expect(await d.token.balanceOf(await op.getAddress())).to.equal(STAKE);
        });
    });

    describe("slash", function () {
        /** Operator 0 with 80 active (30 locked, 50 free) and 20 unbonding. */
        async function deployPartlyLocked() {
            const d = await deployStaked();
            const op = d.operators[0]!;
            await d.staking.connect(op).requestUnbonding(20n * TOKEN);
            await lockCollateral(d, op, 30n * TOKEN);
            return d;
        }

        it("takes from free stake first, sending the tokens to the caller (OperatorSlashed)", async function () {
            const d = await loadFixture(deployPartlyLocked);
            const operator = await d.operators[0]!.getAddress();
            const keeper = await d.keeper.getAddress();
            const tx = d.staking.connect(d.keeper).slash(operator, 40n * TOKEN);
            await expect(tx)
                .to.emit(d.staking, "OperatorSlashed")
                .withArgs(operator, 40n * TOKEN, keeper);
            await expect(tx).to.changeTokenBalances(d.token, [d.staking, keeper], [-40n * TOKEN, 40n * TOKEN]);
            const stake = await d.staking.getStake(operator);
            expect(stake.stakedWei).to.equal(40n * TOKEN);
            expect(stake.lockedWei).to.equal(30n * TOKEN);
            expect(stake.unbondingWei).to.equal(20n * TOKEN);
        });

        it("then from unbonding stake, and never from locked collateral", async function () {
            const d = await loadFixture(deployPartlyLocked);
            const operator = await d.operators[0]!.getAddress();
            const keeper = await d.keeper.getAddress();
            expect(await d.staking.connect(d.keeper).slash.staticCall(operator, STAKE)).to.equal(70n * TOKEN);
            await expect(d.staking.connect(d.keeper).slash(operator, STAKE))
                .to.emit(d.staking, "OperatorSlashed")
                .withArgs(operator, 70n * TOKEN, keeper);
            const stake = await d.staking.getStake(operator);
            expect(stake.stakedWei).to.equal(30n * TOKEN);
            expect(stake.lockedWei).to.equal(30n * TOKEN);
            expect(stake.unbondingWei).to.equal(0n);
            expect(await d.token.balanceOf(keeper)).to.equal(70n * TOKEN);

            // Only locked collateral is left: a further slash takes nothing.
            expect(await d.staking.connect(d.keeper).slash.staticCall(operator, 1n)).to.equal(0n);
            await expect(d.staking.connect(d.keeper).slash(operator, 1n))
                .to.emit(d.staking, "OperatorSlashed")
                .withArgs(operator, 0, keeper);
            expect((await d.staking.getStake(operator)).lockedWei).to.equal(30n * TOKEN);
        });

        it("splits a slash across free and unbonding stake", async function () {
            const d = await loadFixture(deployPartlyLocked);
            const operator = await d.operators[0]!.getAddress();
            await d.staking.connect(d.keeper).slash(operator, 60n * TOKEN);
            const stake = await d.staking.getStake(operator);
            expect(stake.stakedWei).to.equal(30n * TOKEN);
            expect(stake.lockedWei).to.equal(30n * TOKEN);
            expect(stake.unbondingWei).to.equal(10n * TOKEN);
        });
    });
});
