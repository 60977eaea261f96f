import { expect } from "chai";
import { ethers } from "hardhat";
import { loadFixture, time } from "@nomicfoundation/hardhat-network-helpers";
import {
    CALLBACK_GAS,
    DEFAULT_PARAMS,
    INPUT,
    MODEL_COLLATERAL,
    MODEL_FEE,
    MODEL_WINDOW,
    Mode,
    Status,
    NO_FEE_LIMIT,
    TOKEN,
    deployCoordinator,
    deployCore,
    deployWithModel,
    fund,
    now,
    registerModel,
    requestsFrom,
    sendRequest,
    storeProgram,
    TEST_PROGRAM,
} from "../helpers/verity";
import { packRequestTerms } from "../../oracle/src/chain/requestEvents";

const expectedFee = MODEL_FEE + BigInt(CALLBACK_GAS) * BigInt(DEFAULT_PARAMS.callbackGasFeeWei);

describe("InferenceCoordinator: balances and requests", function () {
    describe("constructor", function () {
        /** A token, program store, registry (windows 60..1,000 s) and the coordinator's factory, nothing deployed. */
        async function parts() {
            const [admin] = await ethers.getSigners();
            if (admin === undefined) throw new Error("no signer");
            const token = await ethers.deployContract("MockERC20", ["T", "T"]);
            const store = await ethers.deployContract("ProgramStore");
            const newRegistry = () => ethers.deployContract("ModelRegistry", [60, 1_000, 1, store]);
            const registry = await newRegistry();
            const library = await ethers.deployContract("DisputeLogic");
            const factory = await ethers.getContractFactory("InferenceCoordinator", {
                libraries: { DisputeLogic: await library.getAddress() },
            });
            return { admin, token, registry, newRegistry, factory };
        }

        it("rejects an unbonding delay not longer than the longest window plus the dispute timeout", async function () {
            const { admin, token, registry, factory } = await parts();
            const staking = await ethers.deployContract("Staking", [token, registry, 1_500, admin]);
            await expect(factory.deploy(registry, staking, 500, admin, admin, DEFAULT_PARAMS))
                .to.be.revertedWithCustomError(factory, "CoordinatorInvalidParam")
                .withArgs("unbondingDelaySeconds");
            await expect(factory.deploy(registry, staking, 499, admin, admin, DEFAULT_PARAMS)).not.to.be.reverted;
        });

        it("rejects a registry whose longest challenge window does not fit 24 bits (kept beside the model's terms)", async function () {
            const { admin, token, factory } = await parts();
            const store = await ethers.deployContract("ProgramStore");
            const tooLong = 2 ** 24;
            const registry = await ethers.deployContract("ModelRegistry", [60, tooLong, 1, store]);
            const staking = await ethers.deployContract("Staking", [token, registry, tooLong + 1_000, admin]);
            await expect(factory.deploy(registry, staking, 500, admin, admin, DEFAULT_PARAMS))
                .to.be.revertedWithCustomError(factory, "CoordinatorInvalidParam")
                .withArgs("maxChallengeWindowSeconds");
            const fits = await ethers.deployContract("ModelRegistry", [60, tooLong - 1, 1, store]);
            const itsStaking = await ethers.deployContract("Staking", [token, fits, tooLong + 1_000, admin]);
            await expect(factory.deploy(fits, itsStaking, 500, admin, admin, DEFAULT_PARAMS)).not.to.be.reverted;
        });

        it("rejects a staking contract on another registry: it could not see this coordinator's free stake", async function () {
            const { admin, token, registry, newRegistry, factory } = await parts();
            const otherRegistry = await newRegistry();
            const staking = await ethers.deployContract("Staking", [token, otherRegistry, 86_400, admin]);
            expect(await staking.registry()).to.equal(await otherRegistry.getAddress());
            await expect(factory.deploy(registry, staking, 500, admin, admin, DEFAULT_PARAMS))
                .to.be.revertedWithCustomError(factory, "CoordinatorInvalidParam")
                .withArgs("staking");
            await expect(factory.deploy(otherRegistry, staking, 500, admin, admin, DEFAULT_PARAMS)).not.to.be.reverted;
        });
    });

    describe("deposit and withdraw", function () {
        it("credits the named account and pulls tokens from the caller", async function () {
            const d = await loadFixture(deployCore);
            const account = await d.others[0]!.getAddress();
            await d.token.mint(await d.admin.getAddress(), TOKEN);
            await d.token.approve(await d.coordinator.getAddress(), TOKEN);
            await expect(d.coordinator.deposit(account, TOKEN))
                .to.emit(d.coordinator, "Deposited")
                .withArgs(account, await d.admin.getAddress(), TOKEN);
            expect(await d.coordinator.balanceOf(account)).to.equal(TOKEN);
            expect(await d.token.balanceOf(await d.coordinator.getAddress())).to.equal(TOKEN);
        });

        it("withdraws to any address and reverts beyond the balance (CoordinatorInsufficientBalance)", async function () {
            const d = await loadFixture(deployCore);
            const owner = d.others[0]!;
            const to = await d.others[1]!.getAddress();
            await fund(d, await owner.getAddress(), TOKEN);
            await expect(d.coordinator.connect(owner).withdraw(to, TOKEN + 1n))
                .to.be.revertedWithCustomError(d.coordinator, "CoordinatorInsufficientBalance")
                .withArgs(TOKEN, TOKEN + 1n);
            await expect(d.coordinator.connect(owner).withdraw(to, TOKEN / 4n))
                .to.emit(d.coordinator, "Withdrawn")
                .withArgs(await owner.getAddress(), to, TOKEN / 4n);
            expect(await d.token.balanceOf(to)).to.equal(TOKEN / 4n);
            expect(await d.coordinator.balanceOf(await owner.getAddress())).to.equal((3n * TOKEN) / 4n);
        });

        it("refuses a balance beyond 120 bits instead of truncating it, and moves no tokens", async function () {
            const d = await loadFixture(deployCore);
            const account = await d.others[0]!.getAddress();
            // Far above any token supply: nobody can fill another account (a treasury) to the cap to block credits.
            const max = 2n ** 120n - 1n;
            await d.token.mint(await d.admin.getAddress(), max + 1n);
            await d.token.approve(await d.coordinator.getAddress(), max + 1n);
            await expect(d.coordinator.deposit(account, max + 1n))
                .to.be.revertedWithCustomError(d.coordinator, "CoordinatorInvalidParam")
                .withArgs("balance");
            await d.coordinator.deposit(account, max);
            await expect(d.coordinator.deposit(account, 1n))
                .to.be.revertedWithCustomError(d.coordinator, "CoordinatorInvalidParam")
                .withArgs("balance");
            expect(await d.coordinator.balanceOf(account)).to.equal(max);
            expect(await d.token.balanceOf(await d.coordinator.getAddress())).to.equal(max);
        });

        it("rejects zero amounts and the zero address (CoordinatorZeroValue)", async function () {
            const d = await loadFixture(deployCore);
            await expect(d.coordinator.deposit(ethers.ZeroAddress, 1)).to.be.revertedWithCustomError(
                d.coordinator,
                "CoordinatorZeroValue",
            );
            await expect(d.coordinator.withdraw(await d.admin.getAddress(), 0)).to.be.revertedWithCustomError(
                d.coordinator,
                "CoordinatorZeroValue",
            );
        });
    });

    describe("requestInference", function () {
        it("escrows model fee + callback gas fee, stores one hash, and emits the request's terms and input", async function () {
            const d = await loadFixture(deployWithModel);
            const consumer = await d.consumer.getAddress();
            const before = await d.coordinator.balanceOf(consumer);
            const deadline = (await now()) + 3_600;
            const tx = await d.consumer.request(d.modelId, INPUT, {
                callbackGasLimit: CALLBACK_GAS,
                deadline,
                preferredOperator: ethers.ZeroAddress,
                maxFeeWei: NO_FEE_LIMIT,
            });
            const receipt = await tx.wait();
            const [request] = requestsFrom(receipt);
            const expectedId = BigInt(
                ethers.keccak256(ethers.AbiCoder.defaultAbiCoder().encode(["address", "uint64"], [consumer, 0])),
            );
            const ts = (await ethers.provider.getBlock(receipt!.blockNumber))!.timestamp;
            expect(request).to.deep.include({
                requestId: expectedId,
                modelId: d.modelId,
                inputHash: ethers.keccak256(INPUT),
                consumer,
                feeWei: expectedFee,
                collateralWei: MODEL_COLLATERAL,
                deadline: BigInt(deadline),
                exclusiveUntil: BigInt(ts + Number(DEFAULT_PARAMS.exclusiveWindowSeconds)),
                callbackGasLimit: BigInt(CALLBACK_GAS),
                challengeWindowSeconds: BigInt(MODEL_WINDOW),
                mode: BigInt(Mode.REEXECUTION),
                status: BigInt(Status.Requested),
            });
            // The event carries the terms (the struct's fields feeWei..mode, packed in three words) and the input; the
            // rest of the struct is its topics, keccak256(input) and zeros, which requestsFrom rebuilt above.
            const terms = packRequestTerms(request!);
            await expect(tx)
                .to.emit(d.coordinator, "InferenceRequested")
                .withArgs(
                    expectedId,
                    d.modelId,
                    consumer,
                    (t: readonly unknown[]) => JSON.stringify([...t].map(String)) === JSON.stringify(terms.map(String)),
                    ethers.hexlify(INPUT),
                );
            const logged = receipt!.logs.find(
                (l) => d.coordinator.interface.parseLog(l)?.name === "InferenceRequested",
            );
            // Three words of terms and the input: not the 21-word struct.
            expect(ethers.getBytes(logged!.data).length).to.equal(32 * 3 + 32 + 32 + 32);
            expect(await d.coordinator.balanceOf(consumer)).to.equal(before - expectedFee);
            expect(await d.coordinator.requestNonce(consumer)).to.equal(1n);
            expect(await d.coordinator.isCommitted(request!)).to.equal(true);
            expect(await d.coordinator.quoteFee(d.modelId, CALLBACK_GAS)).to.equal(expectedFee);
        });

        it("assigns the preferred operator, else the rotation's pick at request time", async function () {
            const d = await loadFixture(deployWithModel);
            const preferred = await d.operators[2]!.getAddress();
            expect((await sendRequest(d, { preferred })).assignedOperator).to.equal(preferred);
            const rotated = await sendRequest(d);
            expect(rotated.assignedOperator).to.equal(await d.staking.operatorAt(d.modelId, rotated.requestId));
            expect(rotated.assignedOperator).to.not.equal(ethers.ZeroAddress);
        });

        it("reads the model's terms from the copy only its registry writes (CoordinatorNotRegistry)", async function () {
            const d = await loadFixture(deployWithModel);
            const terms = await d.registry.getModelTerms(d.modelId);
            const forged = {
                feeWei: 0n,
                collateralWei: terms.collateralWei,
                challengeWindowSeconds: terms.challengeWindowSeconds,
                mode: terms.mode,
                active: true,
            };
            await expect(d.coordinator.connect(d.publisher).syncModelTerms(d.modelId, forged))
                .to.be.revertedWithCustomError(d.coordinator, "CoordinatorNotRegistry")
                .withArgs(await d.publisher.getAddress());
            // The registry's changes reach requests at once: a new fee is quoted, a deactivated model refused.
            await d.registry.connect(d.publisher).setModelFee(d.modelId, MODEL_FEE * 3n);
            expect(await d.coordinator.quoteFee(d.modelId, 0)).to.equal(MODEL_FEE * 3n);
            await d.registry.connect(d.publisher).deactivateModel(d.modelId);
            await expect(sendRequest(d))
                .to.be.revertedWithCustomError(d.coordinator, "CoordinatorModelInactive")
                .withArgs(d.modelId);
        });

        it("snapshots the protocol fee share at request time", async function () {
            const d = await loadFixture(deployWithModel);
            const request = await sendRequest(d);
            expect(request.protocolFeeWei).to.equal((expectedFee * BigInt(DEFAULT_PARAMS.protocolFeeBps)) / 10_000n);
            await d.coordinator.setParams({ ...DEFAULT_PARAMS, protocolFeeBps: 0 });
            expect((await sendRequest(d)).protocolFeeWei).to.equal(0n);
        });

        it("gives unique ids to successive requests of one consumer", async function () {
            const d = await loadFixture(deployWithModel);
            const a = await sendRequest(d);
            const b = await sendRequest(d);
            expect(a.requestId).to.not.equal(b.requestId);
        });

        it("reverts when the prepaid balance is short (CoordinatorInsufficientBalance)", async function () {
            const d = await loadFixture(deployWithModel);
            const poor = await ethers.deployContract("TestConsumer", [await d.coordinator.getAddress()]);
            await fund(d, await poor.getAddress(), expectedFee - 1n);
            await expect(
                poor.request(d.modelId, INPUT, {
                    callbackGasLimit: CALLBACK_GAS,
                    deadline: (await now()) + 3_600,
                    preferredOperator: ethers.ZeroAddress,
                    maxFeeWei: NO_FEE_LIMIT,
                }),
            )
                .to.be.revertedWithCustomError(d.coordinator, "CoordinatorInsufficientBalance")
                .withArgs(expectedFee - 1n, expectedFee);
        });

        it("reverts for an unknown model (ModelRegistryUnknownModel) and a deactivated one", async function () {
            const d = await loadFixture(deployWithModel);
            const opts = {
                callbackGasLimit: CALLBACK_GAS,
                deadline: (await now()) + 3_600,
                preferredOperator: ethers.ZeroAddress,
                maxFeeWei: NO_FEE_LIMIT,
            };
            const unknown = ethers.id("nope");
            await expect(d.consumer.request(unknown, INPUT, opts))
                .to.be.revertedWithCustomError(d.registry, "ModelRegistryUnknownModel")
                .withArgs(unknown);
            await expect(d.coordinator.quoteFee(unknown, 0))
                .to.be.revertedWithCustomError(d.coordinator, "ModelRegistryUnknownModel")
                .withArgs(unknown);
            await d.registry.connect(d.publisher).deactivateModel(d.modelId);
            await expect(d.consumer.request(d.modelId, INPUT, opts))
                .to.be.revertedWithCustomError(d.coordinator, "CoordinatorModelInactive")
                .withArgs(d.modelId);
        });

        it("refuses a fee above the consumer's maxFeeWei (CoordinatorFeeAboveMax)", async function () {
            const d = await loadFixture(deployWithModel);
            const deadline = (await now()) + 3_600;
            const opts = { callbackGasLimit: CALLBACK_GAS, deadline, preferredOperator: ethers.ZeroAddress };
            await expect(d.consumer.request(d.modelId, INPUT, { ...opts, maxFeeWei: expectedFee - 1n }))
                .to.be.revertedWithCustomError(d.coordinator, "CoordinatorFeeAboveMax")
                .withArgs(expectedFee, expectedFee - 1n);
            // A model owner raising the fee just before the request cannot take more than the consumer allowed.
            await d.registry.connect(d.publisher).setModelFee(d.modelId, MODEL_FEE * 100n);
            await expect(
                d.consumer.request(d.modelId, INPUT, { ...opts, maxFeeWei: expectedFee }),
            ).to.be.revertedWithCustomError(d.coordinator, "CoordinatorFeeAboveMax");
        });

        it("cannot be asked for a mode that has no resolver: the registry refuses such a model (ModelRegistryNoResolver)", async function () {
            const [admin] = await ethers.getSigners();
            if (admin === undefined) throw new Error("no signer");
            const token = await ethers.deployContract("MockERC20", ["T", "T"]);
            const store = await ethers.deployContract("ProgramStore");
            await storeProgram(store, TEST_PROGRAM);
            const registry = await ethers.deployContract("ModelRegistry", [60, 86_400, 1, store]);
            const staking = await ethers.deployContract("Staking", [token, registry, 3 * 86_400, admin]);
            const coordinator = await deployCoordinator([registry, staking, 86_400, admin, admin, DEFAULT_PARAMS]);
            await expect(registerModel(registry, admin)).to.be.revertedWithCustomError(
                registry,
                "ModelRegistryNotBound",
            );
            await registry.bindCoordinator(coordinator);
            await expect(registerModel(registry, admin))
                .to.be.revertedWithCustomError(registry, "ModelRegistryNoResolver")
                .withArgs(Mode.REEXECUTION);
            // Resolvers are immutable once set, so every registered model can be disputed and no request needs
            // to check again.
            const resolver = await ethers.deployContract("TestResolver", [coordinator]);
            await coordinator.setResolver(Mode.REEXECUTION, resolver);
            const modelId = await registerModel(registry, admin);
            expect((await registry.getModelTerms(modelId)).active).to.equal(true);
        });

        it("bounds the callback gas limit (CoordinatorCallbackGasTooHigh)", async function () {
            const d = await loadFixture(deployWithModel);
            const max = Number(DEFAULT_PARAMS.maxCallbackGasLimit);
            await expect(
                d.consumer.request(d.modelId, INPUT, {
                    callbackGasLimit: max + 1,
                    deadline: (await now()) + 3_600,
                    preferredOperator: ethers.ZeroAddress,
                    maxFeeWei: NO_FEE_LIMIT,
                }),
            )
                .to.be.revertedWithCustomError(d.coordinator, "CoordinatorCallbackGasTooHigh")
                .withArgs(max + 1, max);
        });

        it("bounds the deadline on both sides (CoordinatorInvalidDeadline)", async function () {
            const d = await loadFixture(deployWithModel);
            const t = (await now()) + 1; // the next block's timestamp
            await time.setNextBlockTimestamp(t);
            const min = t + Number(DEFAULT_PARAMS.minDeadlineSeconds);
            const max = t + Number(DEFAULT_PARAMS.maxDeadlineSeconds);
            await expect(
                d.consumer.request(d.modelId, INPUT, {
                    callbackGasLimit: CALLBACK_GAS,
                    deadline: min - 1,
                    preferredOperator: ethers.ZeroAddress,
                    maxFeeWei: NO_FEE_LIMIT,
                }),
            )
                .to.be.revertedWithCustomError(d.coordinator, "CoordinatorInvalidDeadline")
                .withArgs(min - 1, min, max);
            await time.setNextBlockTimestamp(t + 1);
            await expect(
                d.consumer.request(d.modelId, INPUT, {
                    callbackGasLimit: CALLBACK_GAS,
                    deadline: max + 2,
                    preferredOperator: ethers.ZeroAddress,
                    maxFeeWei: NO_FEE_LIMIT,
                }),
            )
                .to.be.revertedWithCustomError(d.coordinator, "CoordinatorInvalidDeadline")
                .withArgs(max + 2, min + 1, max + 1);
        });

        it("rejects empty and oversized input (CoordinatorInvalidInputLength)", async function () {
            const d = await loadFixture(deployWithModel);
            const opts = {
                callbackGasLimit: CALLBACK_GAS,
                deadline: (await now()) + 3_600,
                preferredOperator: ethers.ZeroAddress,
                maxFeeWei: NO_FEE_LIMIT,
            };
            const max = Number(DEFAULT_PARAMS.maxInputBytes);
            await expect(d.consumer.request(d.modelId, "0x", opts))
                .to.be.revertedWithCustomError(d.coordinator, "CoordinatorInvalidInputLength")
                .withArgs(0, max);
            await expect(d.consumer.request(d.modelId, new Uint8Array(max + 1), opts))
                .to.be.revertedWithCustomError(d.coordinator, "CoordinatorInvalidInputLength")
                .withArgs(max + 1, max);
        });
    });

    describe("cancelRequest", function () {
        it("refunds the whole fee to the consumer after the deadline; only the consumer may cancel (CoordinatorNotConsumer)", async function () {
            const d = await loadFixture(deployWithModel);
            const consumer = await d.consumer.getAddress();
            const before = await d.coordinator.balanceOf(consumer);
            const request = await sendRequest(d);
            await time.increaseTo(Number(request.deadline) + 1);
            await expect(d.coordinator.connect(d.others[0]!).cancelRequest(request))
                .to.be.revertedWithCustomError(d.coordinator, "CoordinatorNotConsumer")
                .withArgs(await d.others[0]!.getAddress(), consumer);
            await expect(d.consumer.cancel(request))
                .to.emit(d.coordinator, "RequestCancelled")
                .withArgs(request.requestId, consumer, expectedFee);
            expect(await d.coordinator.balanceOf(consumer)).to.equal(before);
            expect(await d.coordinator.isCommitted(request)).to.equal(false);
        });

        it("reverts at or before the deadline (CoordinatorDeadlineNotPassed)", async function () {
            const d = await loadFixture(deployWithModel);
            const request = await sendRequest(d);
            await time.setNextBlockTimestamp(Number(request.deadline));
            await expect(d.consumer.cancel(request))
                .to.be.revertedWithCustomError(d.coordinator, "CoordinatorDeadlineNotPassed")
                .withArgs(request.deadline, request.deadline);
        });

        it("cannot refund twice (CoordinatorUnknownRequest)", async function () {
            const d = await loadFixture(deployWithModel);
            const request = await sendRequest(d);
            await time.increaseTo(Number(request.deadline) + 1);
            await d.consumer.cancel(request);
            await expect(d.consumer.cancel(request))
                .to.be.revertedWithCustomError(d.coordinator, "CoordinatorUnknownRequest")
                .withArgs(request.requestId);
        });

        it("rejects a request struct with any field forged (CoordinatorUnknownRequest)", async function () {
            const d = await loadFixture(deployWithModel);
            const request = await sendRequest(d);
            await time.increaseTo(Number(request.deadline) + 1);
            const forged = { ...request, feeWei: BigInt(request.feeWei) * 100n };
            await expect(d.coordinator.cancelRequest(forged))
                .to.be.revertedWithCustomError(d.coordinator, "CoordinatorUnknownRequest")
                .withArgs(request.requestId);
        });
    });

    describe("parameters", function () {
        it("lets only the owner set parameters, within bounds", async function () {
            const d = await loadFixture(deployCore);
            await expect(d.coordinator.connect(d.others[0]!).setParams(DEFAULT_PARAMS))
                .to.be.revertedWithCustomError(d.coordinator, "OwnableUnauthorizedAccount")
                .withArgs(await d.others[0]!.getAddress());
            await expect(d.coordinator.setParams({ ...DEFAULT_PARAMS, challengerRewardBps: 5_001 }))
                .to.be.revertedWithCustomError(d.coordinator, "CoordinatorInvalidParam")
                .withArgs("challengerRewardBps");
            await expect(d.coordinator.setParams({ ...DEFAULT_PARAMS, protocolFeeBps: 1_001 }))
                .to.be.revertedWithCustomError(d.coordinator, "CoordinatorInvalidParam")
                .withArgs("protocolFeeBps");
            await expect(d.coordinator.setParams({ ...DEFAULT_PARAMS, minChallengeBondWei: 0 }))
                .to.be.revertedWithCustomError(d.coordinator, "CoordinatorInvalidParam")
                .withArgs("minChallengeBondWei");
            await expect(d.coordinator.setParams({ ...DEFAULT_PARAMS, exclusiveWindowSeconds: 60 }))
                .to.be.revertedWithCustomError(d.coordinator, "CoordinatorInvalidParam")
                .withArgs("exclusiveWindowSeconds");
            const next = { ...DEFAULT_PARAMS, protocolFeeBps: 0 };
            await expect(d.coordinator.setParams(next)).to.emit(d.coordinator, "ParamsUpdated");
            expect((await d.coordinator.getParams()).protocolFeeBps).to.equal(0n);
        });

        it("rejects every out-of-bounds parameter by name (CoordinatorInvalidParam)", async function () {
            const d = await loadFixture(deployCore);
            const cases: [Partial<typeof DEFAULT_PARAMS>, string][] = [
                [{ minDeadlineSeconds: 0 }, "minDeadlineSeconds"],
                [{ minDeadlineSeconds: 1_000, maxDeadlineSeconds: 999 }, "minDeadlineSeconds"],
                [{ maxDeadlineSeconds: 30 * 86_400 + 1 }, "maxDeadlineSeconds"],
                [{ maxCallbackGasLimit: 5_000_001 }, "maxCallbackGasLimit"],
                [{ maxInputBytes: 0 }, "maxInputBytes"],
                [{ maxInputBytes: 131_073 }, "maxInputBytes"],
                [{ failedChallengeOperatorBps: 10_001 }, "failedChallengeOperatorBps"],
                [{ challengeBondBps: 10_001 }, "challengeBondBps"],
            ];
            for (const [change, name] of cases) {
                await expect(d.coordinator.setParams({ ...DEFAULT_PARAMS, ...change }))
                    .to.be.revertedWithCustomError(d.coordinator, "CoordinatorInvalidParam")
                    .withArgs(name);
            }
        });

        it("sets the treasury (TreasuryUpdated) but never to zero (CoordinatorZeroValue)", async function () {
            const d = await loadFixture(deployCore);
            const next = await d.others[0]!.getAddress();
            await expect(d.coordinator.setTreasury(ethers.ZeroAddress)).to.be.revertedWithCustomError(
                d.coordinator,
                "CoordinatorZeroValue",
            );
            await expect(d.coordinator.setTreasury(next)).to.emit(d.coordinator, "TreasuryUpdated").withArgs(next);
            expect(await d.coordinator.treasury()).to.equal(next);
        });

        it("sets each mode's resolver once (CoordinatorResolverAlreadySet)", async function () {
            const d = await loadFixture(deployCore);
            await expect(d.coordinator.setResolver(Mode.QUORUM, await d.others[0]!.getAddress()))
                .to.be.revertedWithCustomError(d.coordinator, "CoordinatorResolverAlreadySet")
                .withArgs(Mode.QUORUM, await d.resolver.getAddress());
        });

        it("registers models with a window the registry accepts", async function () {
            const d = await loadFixture(deployCore);
            const modelId = await registerModel(d.registry, d.publisher, { salt: ethers.id("other") });
            expect((await d.registry.getModelTerms(modelId)).challengeWindowSeconds).to.equal(BigInt(MODEL_WINDOW));
        });
    });
});
