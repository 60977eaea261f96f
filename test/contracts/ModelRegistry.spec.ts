import { expect } from "chai";
import { ethers } from "hardhat";
import { loadFixture } from "@nomicfoundation/hardhat-network-helpers";
import { MAX_WINDOW, MIN_COLLATERAL, MIN_WINDOW, Mode, storeProgram, TEST_PROGRAM, TOKEN } from "../helpers/verity";

/** Any address will do where the constructor reverts before using the store. */
const STORE = "0x000000000000000000000000000000000000dEaD";

const MAX_URI_BYTES = 512;
const SALT = ethers.id("iris-v1");

/** A valid spec; each test breaks one field. */
function spec(overrides: Partial<ReturnType<typeof baseSpec>> = {}) {
    return { ...baseSpec(), ...overrides };
}

function baseSpec() {
    return {
        onnxHash: ethers.id("onnx bytes"),
        manifestHash: ethers.id("manifest bytes"),
        programHash: ethers.id("program bytes"),
        uri: "ipfs://bafybeigdyrzt5sfp7udm7hu76uh7y26nf3efuylqabf3oclgtqy55fbzdi",
        mode: Mode.REEXECUTION as number,
        feeWei: TOKEN / 100n,
        collateralWei: 10n * TOKEN,
        challengeWindowSeconds: 600,
    };
}

async function deployRegistry() {
    const [deployer, publisher, other] = await ethers.getSigners();
    const programStore = await ethers.deployContract("ProgramStore");
    await storeProgram(programStore, TEST_PROGRAM);
    const registry = await ethers.deployContract("ModelRegistry", [
        MIN_WINDOW,
        MAX_WINDOW,
        MIN_COLLATERAL,
        await programStore.getAddress(),
    ]);
    // The registry's own rules, with a resolver that accepts every model for every mode.
    const directory = await ethers.deployContract("TestResolverDirectory");
    await directory.setRegistry(await registry.getAddress());
    const resolver = await ethers.deployContract("TestResolver", [await directory.getAddress()]);
    for (const mode of [Mode.REEXECUTION, Mode.BISECTION, Mode.QUORUM]) {
        await directory.setResolver(mode, await resolver.getAddress());
    }
    await registry.bindCoordinator(await directory.getAddress());
    return {
        registry,
        programStore,
        directory,
        resolver,
        deployer: deployer!,
        publisher: publisher!,
        other: other!,
    };
}

/** deployRegistry with one REEXECUTION model registered by `publisher` under SALT. */
async function deployRegistered() {
    const d = await deployRegistry();
    await d.registry.connect(d.publisher).registerModel(SALT, spec());
    const modelId = await d.registry.computeModelId(await d.publisher.getAddress(), SALT);
    return { ...d, modelId };
}

describe("ModelRegistry", function () {
    describe("constructor", function () {
        it("stores its bounds", async function () {
            const { registry } = await loadFixture(deployRegistry);
            expect(await registry.minChallengeWindowSeconds()).to.equal(BigInt(MIN_WINDOW));
            expect(await registry.maxChallengeWindowSeconds()).to.equal(BigInt(MAX_WINDOW));
            expect(await registry.minCollateralWei()).to.equal(MIN_COLLATERAL);
            expect(await registry.MAX_URI_BYTES()).to.equal(BigInt(MAX_URI_BYTES));
        });

        it("rejects a zero minimum window or a maximum below the minimum (ModelRegistryInvalidChallengeWindow)", async function () {
            const factory = await ethers.getContractFactory("ModelRegistry");
            await expect(factory.deploy(0, 100, 1, STORE))
                .to.be.revertedWithCustomError(factory, "ModelRegistryInvalidChallengeWindow")
                .withArgs(0, 1, 100);
            await expect(factory.deploy(100, 99, 1, STORE))
                .to.be.revertedWithCustomError(factory, "ModelRegistryInvalidChallengeWindow")
                .withArgs(100, 1, 99);
            await expect(factory.deploy(100, 100, 1, STORE)).not.to.be.reverted;
        });

        it("rejects a zero program store (ModelRegistryZeroProgramStore)", async function () {
            const factory = await ethers.getContractFactory("ModelRegistry");
            await expect(factory.deploy(1, 100, 1, ethers.ZeroAddress)).to.be.revertedWithCustomError(
                factory,
                "ModelRegistryZeroProgramStore",
            );
        });

        it("rejects a zero minimum collateral (ModelRegistryCollateralTooLow)", async function () {
            const factory = await ethers.getContractFactory("ModelRegistry");
            await expect(factory.deploy(1, 100, 0, STORE))
                .to.be.revertedWithCustomError(factory, "ModelRegistryCollateralTooLow")
                .withArgs(0, 1);
            await expect(factory.deploy(1, 100, 1, STORE)).not.to.be.reverted;
        });
    });

    describe("bindCoordinator", function () {
        it("binds once, by the deployer only (ModelRegistryNotDeployer, ModelRegistryAlreadyBound)", async function () {
            const [deployer, other] = await ethers.getSigners();
            const store = await ethers.deployContract("ProgramStore");
            const registry = await ethers.deployContract("ModelRegistry", [
                MIN_WINDOW,
                MAX_WINDOW,
                MIN_COLLATERAL,
                store,
            ]);
            const directory = await ethers.deployContract("TestResolverDirectory");
            expect(await registry.coordinator()).to.equal(ethers.ZeroAddress);
            // A coordinator built on another registry (here: none) is refused.
            await expect(registry.bindCoordinator(directory))
                .to.be.revertedWithCustomError(registry, "ModelRegistryForeignCoordinator")
                .withArgs(await directory.getAddress(), ethers.ZeroAddress);
            await directory.setRegistry(await registry.getAddress());
            await expect(registry.connect(other!).bindCoordinator(directory))
                .to.be.revertedWithCustomError(registry, "ModelRegistryNotDeployer")
                .withArgs(await other!.getAddress(), await deployer!.getAddress());
            await expect(registry.bindCoordinator(ethers.ZeroAddress)).to.be.revertedWithCustomError(
                registry,
                "ModelRegistryNotBound",
            );
            await expect(registry.bindCoordinator(directory))
                .to.emit(registry, "CoordinatorBound")
                .withArgs(await directory.getAddress());
            expect(await registry.coordinator()).to.equal(await directory.getAddress());
            await expect(registry.bindCoordinator(other!))
                .to.be.revertedWithCustomError(registry, "ModelRegistryAlreadyBound")
                .withArgs(await directory.getAddress());
        });

        it("registers nothing until bound (ModelRegistryNotBound)", async function () {
            const [, publisher] = await ethers.getSigners();
            const store = await ethers.deployContract("ProgramStore");
            await storeProgram(store, TEST_PROGRAM);
            const registry = await ethers.deployContract("ModelRegistry", [
                MIN_WINDOW,
                MAX_WINDOW,
                MIN_COLLATERAL,
                store,
            ]);
            await expect(registry.connect(publisher!).registerModel(SALT, spec())).to.be.revertedWithCustomError(
                registry,
                "ModelRegistryNotBound",
            );
        });

        it("refuses a model whose mode has no resolver (ModelRegistryNoResolver), and names the resolver that accepted one (ModelDisputeChecked)", async function () {
            const { registry, directory, resolver, publisher } = await loadFixture(deployRegistry);
            await directory.setResolver(Mode.QUORUM, ethers.ZeroAddress);
            await expect(
                registry
                    .connect(publisher)
                    .registerModel(SALT, spec({ mode: Mode.QUORUM, programHash: ethers.ZeroHash })),
            )
                .to.be.revertedWithCustomError(registry, "ModelRegistryNoResolver")
                .withArgs(Mode.QUORUM);
            const modelId = await registry.computeModelId(await publisher.getAddress(), SALT);
            await expect(registry.connect(publisher).registerModel(SALT, spec()))
                .to.emit(registry, "ModelDisputeChecked")
                .withArgs(modelId, await resolver.getAddress(), 0);
        });
    });

    describe("registerModel", function () {
        it("registers under keccak256(owner, salt) and emits ModelRegistered with every field", async function () {
            const { registry, publisher } = await loadFixture(deployRegistry);
            const owner = await publisher.getAddress();
            const s = spec();
            const modelId = ethers.keccak256(
                ethers.AbiCoder.defaultAbiCoder().encode(["address", "bytes32"], [owner, SALT]),
            );
            expect(await registry.computeModelId(owner, SALT)).to.equal(modelId);
            expect(await registry.connect(publisher).registerModel.staticCall(SALT, s)).to.equal(modelId);
            await expect(registry.connect(publisher).registerModel(SALT, s))
                .to.emit(registry, "ModelRegistered")
                .withArgs(
                    modelId,
                    owner,
                    s.onnxHash,
                    s.manifestHash,
                    s.programHash,
                    s.mode,
                    s.feeWei,
                    s.collateralWei,
                    s.challengeWindowSeconds,
                    s.uri,
                );
        });

        it("stores every field (getModel, getModelTerms)", async function () {
            const { registry, publisher, modelId } = await loadFixture(deployRegistered);
            const s = spec();
            const model = await registry.getModel(modelId);
            expect(model.owner).to.equal(await publisher.getAddress());
            expect(model.onnxHash).to.equal(s.onnxHash);
            expect(model.manifestHash).to.equal(s.manifestHash);
            expect(model.programHash).to.equal(s.programHash);
            expect(model.uri).to.equal(s.uri);
            expect(model.terms.feeWei).to.equal(s.feeWei);
            expect(model.terms.collateralWei).to.equal(s.collateralWei);
            expect(model.terms.challengeWindowSeconds).to.equal(BigInt(s.challengeWindowSeconds));
            expect(model.terms.mode).to.equal(BigInt(s.mode));
            expect(model.terms.active).to.equal(true);
            const terms = await registry.getModelTerms(modelId);
            expect(terms.feeWei).to.equal(s.feeWei);
            expect(terms.collateralWei).to.equal(s.collateralWei);
            expect(terms.challengeWindowSeconds).to.equal(BigInt(s.challengeWindowSeconds));
            expect(terms.mode).to.equal(BigInt(s.mode));
            expect(terms.active).to.equal(true);
        });

        it("reverts for unknown ids (ModelRegistryUnknownModel)", async function () {
            const { registry } = await loadFixture(deployRegistered);
            const unknown = ethers.id("unknown");
            await expect(registry.getModel(unknown))
                .to.be.revertedWithCustomError(registry, "ModelRegistryUnknownModel")
                .withArgs(unknown);
            await expect(registry.getModelTerms(unknown))
                .to.be.revertedWithCustomError(registry, "ModelRegistryUnknownModel")
                .withArgs(unknown);
        });

        it("rejects the same owner and salt twice (ModelRegistryAlreadyRegistered), but not another owner's", async function () {
            const { registry, publisher, other, modelId } = await loadFixture(deployRegistered);
            await expect(registry.connect(publisher).registerModel(SALT, spec({ uri: "file://other.onnx" })))
                .to.be.revertedWithCustomError(registry, "ModelRegistryAlreadyRegistered")
                .withArgs(modelId);
            const otherId = await registry.computeModelId(await other.getAddress(), SALT);
            expect(otherId).to.not.equal(modelId);
            const s = spec();
            await expect(registry.connect(other).registerModel(SALT, s))
                .to.emit(registry, "ModelRegistered")
                .withArgs(
                    otherId,
                    await other.getAddress(),
                    s.onnxHash,
                    s.manifestHash,
                    s.programHash,
                    s.mode,
                    s.feeWei,
                    s.collateralWei,
                    s.challengeWindowSeconds,
                    s.uri,
                );
        });

        it("rejects a challenge window outside [min, max] (ModelRegistryInvalidChallengeWindow)", async function () {
            const { registry, publisher } = await loadFixture(deployRegistry);
            for (const window of [0, MIN_WINDOW - 1, MAX_WINDOW + 1]) {
                await expect(registry.connect(publisher).registerModel(SALT, spec({ challengeWindowSeconds: window })))
                    .to.be.revertedWithCustomError(registry, "ModelRegistryInvalidChallengeWindow")
                    .withArgs(window, MIN_WINDOW, MAX_WINDOW);
            }
            await registry
                .connect(publisher)
                .registerModel(ethers.id("min"), spec({ challengeWindowSeconds: MIN_WINDOW }));
            await registry
                .connect(publisher)
                .registerModel(ethers.id("max"), spec({ challengeWindowSeconds: MAX_WINDOW }));
        });

        it("rejects collateral below the minimum (ModelRegistryCollateralTooLow)", async function () {
            const { registry, publisher } = await loadFixture(deployRegistry);
            for (const collateralWei of [0n, MIN_COLLATERAL - 1n]) {
                await expect(registry.connect(publisher).registerModel(SALT, spec({ collateralWei })))
                    .to.be.revertedWithCustomError(registry, "ModelRegistryCollateralTooLow")
                    .withArgs(collateralWei, MIN_COLLATERAL);
            }
            await expect(
                registry.connect(publisher).registerModel(SALT, spec({ collateralWei: MIN_COLLATERAL })),
            ).to.emit(registry, "ModelRegistered");
        });

        it("rejects a zero ONNX or manifest hash (ModelRegistryMissingHash)", async function () {
            const { registry, publisher } = await loadFixture(deployRegistry);
            for (const mode of [Mode.REEXECUTION, Mode.BISECTION, Mode.QUORUM]) {
                await expect(
                    registry.connect(publisher).registerModel(SALT, spec({ mode, onnxHash: ethers.ZeroHash })),
                ).to.be.revertedWithCustomError(registry, "ModelRegistryMissingHash");
                await expect(
                    registry.connect(publisher).registerModel(SALT, spec({ mode, manifestHash: ethers.ZeroHash })),
                ).to.be.revertedWithCustomError(registry, "ModelRegistryMissingHash");
            }
        });

        it("requires a program hash for REEXECUTION and BISECTION (ModelRegistryMissingProgramHash) but not for QUORUM", async function () {
            const { registry, publisher } = await loadFixture(deployRegistry);
            for (const mode of [Mode.REEXECUTION, Mode.BISECTION]) {
                await expect(
                    registry.connect(publisher).registerModel(SALT, spec({ mode, programHash: ethers.ZeroHash })),
                )
                    .to.be.revertedWithCustomError(registry, "ModelRegistryMissingProgramHash")
                    .withArgs(mode);
            }
            await expect(
                registry
                    .connect(publisher)
                    .registerModel(SALT, spec({ mode: Mode.QUORUM, programHash: ethers.ZeroHash })),
            ).to.emit(registry, "ModelRegistered");
            const modelId = await registry.computeModelId(await publisher.getAddress(), SALT);
            const model = await registry.getModel(modelId);
            expect(model.programHash).to.equal(ethers.ZeroHash);
            expect(model.terms.mode).to.equal(BigInt(Mode.QUORUM));
        });

        it("requires the program of a REEXECUTION or BISECTION model to be stored (ModelRegistryProgramNotStored)", async function () {
            const { registry, programStore, publisher } = await loadFixture(deployRegistry);
            const program = ethers.toUtf8Bytes("another program");
            const programHash = ethers.keccak256(program);
            for (const mode of [Mode.REEXECUTION, Mode.BISECTION]) {
                await expect(registry.connect(publisher).registerModel(SALT, spec({ mode, programHash })))
                    .to.be.revertedWithCustomError(registry, "ModelRegistryProgramNotStored")
                    .withArgs(programHash);
            }
            await storeProgram(programStore, program);
            await expect(registry.connect(publisher).registerModel(SALT, spec({ programHash }))).to.emit(
                registry,
                "ModelRegistered",
            );
            expect(await registry.programStore()).to.equal(await programStore.getAddress());
        });

        it("rejects an empty URI or one over 512 bytes (ModelRegistryInvalidUri)", async function () {
            const { registry, publisher } = await loadFixture(deployRegistry);
            await expect(registry.connect(publisher).registerModel(SALT, spec({ uri: "" })))
                .to.be.revertedWithCustomError(registry, "ModelRegistryInvalidUri")
                .withArgs(0, MAX_URI_BYTES);
            const tooLong = "file://" + "a".repeat(MAX_URI_BYTES + 1 - "file://".length);
            expect(ethers.toUtf8Bytes(tooLong).length).to.equal(MAX_URI_BYTES + 1);
            await expect(registry.connect(publisher).registerModel(SALT, spec({ uri: tooLong })))
                .to.be.revertedWithCustomError(registry, "ModelRegistryInvalidUri")
                .withArgs(MAX_URI_BYTES + 1, MAX_URI_BYTES);
            // The bound is in bytes, not characters: 171 three-byte characters are 513 bytes.
            const multiByte = "€".repeat(171);
            await expect(registry.connect(publisher).registerModel(SALT, spec({ uri: multiByte })))
                .to.be.revertedWithCustomError(registry, "ModelRegistryInvalidUri")
                .withArgs(MAX_URI_BYTES + 1, MAX_URI_BYTES);
            const longest = tooLong.slice(0, -1);
            await registry.connect(publisher).registerModel(SALT, spec({ uri: longest }));
            const modelId = await registry.computeModelId(await publisher.getAddress(), SALT);
            expect((await registry.getModel(modelId)).uri).to.equal(longest);
        });
    });

    describe("setModelFee", function () {
        it("lets the owner change the fee (ModelFeeUpdated)", async function () {
            const { registry, publisher, modelId } = await loadFixture(deployRegistered);
            const oldFee = spec().feeWei;
            await expect(registry.connect(publisher).setModelFee(modelId, 5n * oldFee))
                .to.emit(registry, "ModelFeeUpdated")
                .withArgs(modelId, oldFee, 5n * oldFee);
            expect((await registry.getModelTerms(modelId)).feeWei).to.equal(5n * oldFee);
            await expect(registry.connect(publisher).setModelFee(modelId, 0))
                .to.emit(registry, "ModelFeeUpdated")
                .withArgs(modelId, 5n * oldFee, 0);
        });

        it("is owner-only (ModelRegistryNotOwner)", async function () {
            const { registry, publisher, other, modelId } = await loadFixture(deployRegistered);
            await expect(registry.connect(other).setModelFee(modelId, 1))
                .to.be.revertedWithCustomError(registry, "ModelRegistryNotOwner")
                .withArgs(await other.getAddress(), await publisher.getAddress());
        });

        it("reverts for unknown ids (ModelRegistryUnknownModel)", async function () {
            const { registry, publisher } = await loadFixture(deployRegistered);
            const unknown = ethers.id("unknown");
            await expect(registry.connect(publisher).setModelFee(unknown, 1))
                .to.be.revertedWithCustomError(registry, "ModelRegistryUnknownModel")
                .withArgs(unknown);
        });
    });

    describe("the coordinator's copy of the terms", function () {
        it("is written in the same transaction as registration, every fee change and deactivation", async function () {
            const { registry, directory, publisher, modelId } = await loadFixture(deployRegistered);
            const copy = async () => {
                const t = await directory.syncedTerms(modelId);
                return [t.feeWei, t.collateralWei, t.challengeWindowSeconds, t.mode, t.active];
            };
            const terms = async () => {
                const t = await registry.getModelTerms(modelId);
                return [t.feeWei, t.collateralWei, t.challengeWindowSeconds, t.mode, t.active];
            };
            expect(await copy()).to.deep.equal(await terms());
            expect((await copy())[4]).to.equal(true);
            await registry.connect(publisher).setModelFee(modelId, 12_345n);
            expect(await copy()).to.deep.equal(await terms());
            expect((await copy())[0]).to.equal(12_345n);
            await registry.connect(publisher).deactivateModel(modelId);
            expect(await copy()).to.deep.equal(await terms());
            expect((await copy())[4]).to.equal(false);
        });
    });

    describe("deactivateModel", function () {
        it("is owner-only (ModelRegistryNotOwner)", async function () {
            const { registry, publisher, other, modelId } = await loadFixture(deployRegistered);
            await expect(registry.connect(other).deactivateModel(modelId))
                .to.be.revertedWithCustomError(registry, "ModelRegistryNotOwner")
                .withArgs(await other.getAddress(), await publisher.getAddress());
            expect((await registry.getModelTerms(modelId)).active).to.equal(true);
        });

        it("is one-way: no second deactivation, no fee change afterwards (ModelRegistryInactive)", async function () {
            const { registry, publisher, modelId } = await loadFixture(deployRegistered);
            await expect(registry.connect(publisher).deactivateModel(modelId))
                .to.emit(registry, "ModelDeactivated")
                .withArgs(modelId);
            expect((await registry.getModelTerms(modelId)).active).to.equal(false);
            expect((await registry.getModel(modelId)).terms.active).to.equal(false);
            await expect(registry.connect(publisher).deactivateModel(modelId))
                .to.be.revertedWithCustomError(registry, "ModelRegistryInactive")
                .withArgs(modelId);
            await expect(registry.connect(publisher).setModelFee(modelId, 1))
                .to.be.revertedWithCustomError(registry, "ModelRegistryInactive")
                .withArgs(modelId);
            // The id stays taken: the same owner and salt cannot re-register an active copy.
            await expect(registry.connect(publisher).registerModel(SALT, spec()))
                .to.be.revertedWithCustomError(registry, "ModelRegistryAlreadyRegistered")
                .withArgs(modelId);
        });
    });
});
