import { loadFixture } from "@nomicfoundation/hardhat-network-helpers";
import { expect } from "chai";
import { getBytes, hexlify, keccak256, type Interface } from "ethers";
import fc from "fast-check";
import { ethers } from "hardhat";

import {
    DTYPES,
    TensorCodecError,
    decodeTensors,
    encodeTensors,
    tensorElementAt,
    tensorListHash,
    validateTensors,
    type DTypeInfo,
    type Tensor,
} from "../../oracle/src/protocol/tensorCodec";
import { TensorsHarness__factory, type TensorsHarness } from "../../typechain-types";
import type { Tensors } from "../../typechain-types/contracts/test/TensorsHarness";
import {
    ELEMENT_AT_CASES,
    EXAMPLE_HEX,
    MALFORMED_CASES,
    SOLIDITY_ERRORS,
    type SolidityErrorCode,
} from "../shared/tensorVectors";

/**
 * Properties holding the TypeScript codec and the Solidity library to the same bytes, values and errors. Each
 * property run makes one harness call; the run counts keep the file well under a minute.
 */
const VALID_RUNS = 200;
const BYTES_RUNS = 300;
const ENCODE_ERROR_RUNS = 150;

// ---------------------------------------------------------------------------------------------------------------
// Outcomes: a value or an error (Solidity error name and arguments), comparable across the two implementations.
// ---------------------------------------------------------------------------------------------------------------

type Outcome = { ok: true; value: unknown } | { ok: false; error: string; args: (bigint | undefined)[] };

function tsOutcome(fn: () => unknown): Outcome {
    try {
        return { ok: true, value: fn() };
    } catch (error) {
        if (!(error instanceof TensorCodecError)) throw error;
        const spec = (SOLIDITY_ERRORS as Partial<Record<string, { name: string; params: string[] }>>)[error.code];
        if (spec === undefined) return { ok: false, error: `TypeScript-only ${error.code}`, args: [] };
        return { ok: false, error: spec.name, args: spec.params.map((param) => error.details[param]) };
    }
}

type HarnessFunction = "decode" | "validate" | "elementAt" | "encode";

function toTensor(output: Tensors.TensorStructOutput): Tensor {
    return { dtype: Number(output.dtype), shape: output.shape.map(Number), data: [...output.data] };
}

/** The outcome of a harness sub-call from its success flag and return or revert data. */
function solOutcome(harness: TensorsHarness, fn: HarnessFunction, ok: boolean, data: string): Outcome {
    const iface: Interface = harness.interface;
    if (ok) {
        const result = iface.decodeFunctionResult(fn, data);
        const first: unknown = result[0];
        switch (fn) {
            case "decode":
                return { ok: true, value: (first as Tensors.TensorStructOutput[]).map(toTensor) };
            case "validate":
                return { ok: true, value: Number(first as bigint) };
            case "elementAt":
            case "encode":
                return { ok: true, value: first };
        }
    }
    const parsed = iface.parseError(data);
    if (parsed === null || !parsed.name.startsWith("Tensors")) {
        throw new Error(`${fn} reverted with something other than a Tensors error: ${data}`);
    }
    return { ok: false, error: parsed.name, args: parsed.args.toArray() as bigint[] };
}

// ---------------------------------------------------------------------------------------------------------------
// Arbitraries
// ---------------------------------------------------------------------------------------------------------------

const byteArb = fc.integer({ min: 0, max: 255 });

/** Values over the dtype's full range, with its edges (and their neighbours) drawn often. */
function valueArb(info: DTypeInfo): fc.Arbitrary<bigint> {
    const edges = [info.min, info.max, 0n, info.min + 1n, info.max - 1n, ...(info.signed ? [-1n, 1n] : [1n])];
    return fc.oneof(fc.constantFrom(...edges), fc.bigInt({ min: info.min, max: info.max }));
}

/** A valid tensor: any dtype, rank 0..3, dims 1..4. */
const tensorArb: fc.Arbitrary<Tensor> = fc
    .tuple(fc.constantFrom(...DTYPES.values()), fc.array(fc.integer({ min: 1, max: 4 }), { maxLength: 3 }))
    .chain(([info, shape]) => {
        const numel = shape.reduce((product, dim) => product * dim, 1);
        return fc
            .array(valueArb(info), { minLength: numel, maxLength: numel })
            .map((data): Tensor => ({ dtype: info.dtype, shape, data }));
    });

const tensorListArb = fc.array(tensorArb, { maxLength: 5 });

type Mutation =
    | { kind: "set"; at: number; value: number }
    | { kind: "insert"; at: number; value: number }
    | { kind: "delete"; at: number }
    | { kind: "truncate"; at: number }
    | { kind: "append"; bytes: Uint8Array };

const mutationArb: fc.Arbitrary<Mutation> = fc.oneof(
    { weight: 4, arbitrary: fc.record({ kind: fc.constant("set" as const), at: fc.nat(), value: byteArb }) },
    fc.record({ kind: fc.constant("insert" as const), at: fc.nat(), value: byteArb }),
    fc.record({ kind: fc.constant("delete" as const), at: fc.nat() }),
    fc.record({ kind: fc.constant("truncate" as const), at: fc.nat() }),
    fc.record({ kind: fc.constant("append" as const), bytes: fc.uint8Array({ minLength: 1, maxLength: 4 }) }),
);

function mutate(bytes: Uint8Array, mutation: Mutation): Uint8Array {
    const out = [...bytes];
    switch (mutation.kind) {
        case "set":
            if (out.length > 0) out[mutation.at % out.length] = mutation.value;
            break;
        case "insert":
            out.splice(mutation.at % (out.length + 1), 0, mutation.value);
            break;
        case "delete":
            if (out.length > 0) out.splice(mutation.at % out.length, 1);
            break;
        case "truncate":
            out.length = mutation.at % (out.length + 1);
            break;
        case "append":
            out.push(...mutation.bytes);
            break;
    }
    return Uint8Array.from(out);
}

/** Valid encodings with one to three byte-level mutations. */
const mutatedArb = fc
    .tuple(tensorListArb, fc.array(mutationArb, { minLength: 1, maxLength: 3 }))
    .map(([tensors, mutations]) => mutations.reduce(mutate, encodeTensors(tensors)));

function u32(value: number): number[] {
    return [value >>> 24, (value >>> 16) & 0xff, (value >>> 8) & 0xff, value & 0xff];
}

/**
 * Header-shaped bytes: mostly known dtypes and small ranks and dims, sometimes an unknown dtype, a rank above 8,
 * a zero or huge dim; data of about the right length, mostly 0s and 1s (so bool tensors are often valid).
 */
const rawTensorArb: fc.Arbitrary<number[]> = fc
    .tuple(
        fc.oneof({ weight: 5, arbitrary: fc.constantFrom(...DTYPES.keys()) }, { weight: 1, arbitrary: byteArb }),
        fc.oneof({ weight: 6, arbitrary: fc.integer({ min: 0, max: 3 }) }, fc.integer({ min: 4, max: 12 })),
    )
    .chain(([dtype, rank]) =>
        fc
            .array(
                fc.oneof(
                    { weight: 8, arbitrary: fc.integer({ min: 1, max: 4 }) },
                    fc.constantFrom(0, 0x100_0000, 0x100_0001, 0xffff_ffff),
                ),
                { minLength: rank, maxLength: rank },
            )
            .chain((dims) => {
                const numel = dims.reduce((product, dim) => product * dim, 1);
                const size = DTYPES.get(dtype)?.size ?? 1;
                const want = numel <= 64 ? numel * size : 4;
                return fc
                    .tuple(
                        fc.oneof({ weight: 6, arbitrary: fc.constant(0) }, fc.constantFrom(-1, 1)),
                        fc.array(fc.oneof({ weight: 3, arbitrary: fc.constantFrom(0, 1) }, byteArb), {
                            minLength: want + 1,
                            maxLength: want + 1,
                        }),
                    )
                    .map(([delta, data]) => [dtype, rank, ...dims.flatMap(u32), ...data.slice(0, want + delta)]);
            }),
    );

const structuredArb = fc
    .tuple(
        fc.oneof({ weight: 9, arbitrary: fc.constant(1) }, byteArb),
        fc.array(rawTensorArb, { maxLength: 3 }),
        fc.oneof({ weight: 6, arbitrary: fc.constant(0) }, fc.constantFrom(-1, 1)),
    )
    .map(([version, tensors, countDelta]) =>
        Uint8Array.from([version, Math.max(0, tensors.length + countDelta), ...tensors.flat()]),
    );

const anyBytesArb: fc.Arbitrary<Uint8Array> = fc.oneof(
    fc.uint8Array({ maxLength: 48 }),
    fc
        .tuple(fc.integer({ min: 0, max: 3 }), fc.uint8Array({ maxLength: 48 }))
        .map(([count, rest]) => Uint8Array.from([1, count, ...rest])),
    { weight: 3, arbitrary: mutatedArb },
    { weight: 3, arbitrary: structuredArb },
);

type Corruption =
    | { kind: "value"; tensor: number; element: number; past: bigint; above: boolean }
    | { kind: "dtype"; tensor: number; dtype: number }
    | { kind: "zeroDim"; tensor: number; at: number }
    | { kind: "rank"; tensor: number; extra: number }
    | { kind: "length"; tensor: number; grow: boolean }
    | { kind: "hugeDims"; tensor: number; dims: readonly number[] };

const corruptionArb: fc.Arbitrary<Corruption> = fc.oneof(
    {
        weight: 3,
        arbitrary: fc.record({
            kind: fc.constant("value" as const),
            tensor: fc.nat(),
            element: fc.nat(),
            past: fc.oneof(fc.bigInt({ min: 1n, max: 3n }), fc.bigInt({ min: 1n, max: 2n ** 200n })),
            above: fc.boolean(),
        }),
    },
    fc.record({ kind: fc.constant("dtype" as const), tensor: fc.nat(), dtype: byteArb }),
    fc.record({ kind: fc.constant("zeroDim" as const), tensor: fc.nat(), at: fc.nat() }),
    fc.record({ kind: fc.constant("rank" as const), tensor: fc.nat(), extra: fc.integer({ min: 6, max: 8 }) }),
    fc.record({ kind: fc.constant("length" as const), tensor: fc.nat(), grow: fc.boolean() }),
    fc.record({
        kind: fc.constant("hugeDims" as const),
        tensor: fc.nat(),
        dims: fc.constantFrom([4097, 4097], [0xffff_ffff, 2], [0x100_0001]),
    }),
);

/** A copy of `tensors` with `corruption` applied to one of them (the list must not be empty). */
function corrupt(tensors: Tensor[], corruption: Corruption): Tensor[] {
    const out = tensors.map((t) => ({ dtype: t.dtype, shape: [...t.shape], data: [...t.data] }));
    const target = out[corruption.tensor % out.length];
    if (target === undefined) return out;
    switch (corruption.kind) {
        case "value": {
            const info = DTYPES.get(target.dtype);
            if (info === undefined || target.data.length === 0) break;
            target.data[corruption.element % target.data.length] = corruption.above
                ? info.max + corruption.past
                : info.min - corruption.past;
            break;
        }
        case "dtype":
            target.dtype = corruption.dtype;
            break;
        case "zeroDim":
            target.shape.splice(corruption.at % (target.shape.length + 1), 0, 0);
            break;
        case "rank":
            target.shape.push(...Array<number>(corruption.extra).fill(1));
            break;
        case "length":
            if (corruption.grow) target.data.push(0n);
            else target.data.pop();
            break;
        case "hugeDims":
            target.shape = [...corruption.dims];
            break;
    }
    return out;
}

// ---------------------------------------------------------------------------------------------------------------
// Properties
// ---------------------------------------------------------------------------------------------------------------

describe("tensor codec: TypeScript and Solidity agree", function () {
    async function deployHarness(): Promise<{ harness: TensorsHarness }> {
        const harness = await ethers.deployContract("TensorsHarness");
        return { harness };
    }

    it("maps every TypeScript error code to the Solidity error with the same parameter names", function () {
        const iface = TensorsHarness__factory.createInterface();
        for (const [code, { name, params }] of Object.entries(SOLIDITY_ERRORS)) {
            const fragment = iface.getError(name);
            expect(fragment, `${code} -> ${name}`).to.not.equal(null);
            expect(fragment?.inputs.map((input) => input.name)).to.deep.equal(params);
        }
    });

    it("encodes, hashes, decodes, validates and reads elements of random tensor lists identically", async function () {
        const { harness } = await loadFixture(deployHarness);
        const picksArb = fc.array(fc.tuple(fc.nat(), fc.nat()), { maxLength: 4 });
        await fc.assert(
            fc.asyncProperty(tensorListArb, picksArb, async (tensors, picks) => {
                const tsBytes = encodeTensors(tensors);
                const picked = tensors.length === 0 ? [] : picks;
                const tensorIndices = picked.map(([t]) => t % tensors.length);
                const elementIndices = picked.map(([t, e], k) => {
                    const tensor = tensors[tensorIndices[k] ?? t];
                    return e % (tensor?.data.length ?? 1);
                });

                const [solBytes, solHash, solDecoded, solCount, solElements] = await harness.roundTrip(
                    tensors,
                    tsBytes,
                    tensorIndices,
                    elementIndices,
                );

                expect(solBytes, "Solidity encode == TypeScript encode").to.equal(hexlify(tsBytes));
                expect(solHash, "keccak256 of the bytes").to.equal(tensorListHash(tsBytes));
                expect(solHash).to.equal(keccak256(tsBytes));
                expect(solDecoded.map(toTensor), "Solidity decode(TS bytes)").to.deep.equal(tensors);
                expect(decodeTensors(getBytes(solBytes)), "TS decode(Solidity bytes)").to.deep.equal(tensors);
                expect(solCount).to.equal(BigInt(tensors.length));
                expect(validateTensors(getBytes(solBytes))).to.equal(tensors.length);
                const tsElements = tensorIndices.map((t, k) => tensorElementAt(tsBytes, t, elementIndices[k] ?? 0));
                expect(solElements, "elementAt").to.deep.equal(tsElements);
                expect(tsElements).to.deep.equal(tensorIndices.map((t, k) => tensors[t]?.data[elementIndices[k] ?? 0]));
            }),
            { numRuns: VALID_RUNS },
        );
    });

    it("accepts or rejects random and mutated bytes alike in decode, validate and elementAt", async function () {
        const { harness } = await loadFixture(deployHarness);
        const indexArb = fc.tuple(
            fc.oneof({ weight: 3, arbitrary: fc.nat({ max: 1 }) }, fc.nat({ max: 4 })),
            fc.oneof({ weight: 3, arbitrary: fc.nat({ max: 3 }) }, fc.nat({ max: 100 })),
        );
        // The hand-made corpus of every error class runs first, as examples.
        const examples: [Uint8Array, [number, number]][] = [
            ...MALFORMED_CASES.map((c): [Uint8Array, [number, number]] => [getBytes(c.hex), [0, 0]]),
            ...ELEMENT_AT_CASES.map((c): [Uint8Array, [number, number]] => [
                getBytes(c.hex),
                [c.tensorIndex, c.elementIndex],
            ]),
            [getBytes(EXAMPLE_HEX), [1, 2]],
        ];
        const seen = new Set<string>();
        await fc.assert(
            fc.asyncProperty(anyBytesArb, indexArb, async (bytes, [tensorIndex, elementIndex]) => {
                const [ok, results] = await harness.probe(bytes, tensorIndex, elementIndex);
                const sol = [
                    solOutcome(harness, "decode", ok[0], results[0]),
                    solOutcome(harness, "validate", ok[1], results[1]),
                    solOutcome(harness, "elementAt", ok[2], results[2]),
                ];
                const ts = [
                    tsOutcome(() => decodeTensors(bytes)),
                    tsOutcome(() => validateTensors(bytes)),
                    tsOutcome(() => tensorElementAt(bytes, tensorIndex, elementIndex)),
                ];
                expect(sol, hexlify(bytes)).to.deep.equal(ts);
                for (const outcome of ts) seen.add(outcome.ok ? "ok" : outcome.error);
            }),
            { numRuns: BYTES_RUNS, examples },
        );
        // The corpus alone covers every decode error class; this guards against a generator or corpus regression.
        const decodeErrors: SolidityErrorCode[] = [
            "UNSUPPORTED_VERSION",
            "UNKNOWN_DTYPE",
            "RANK_TOO_LARGE",
            "ZERO_DIM",
            "TOO_MANY_ELEMENTS",
            "TRUNCATED",
            "TRAILING_BYTES",
            "INVALID_BOOL",
            "INDEX_OUT_OF_BOUNDS",
        ];
        expect([...seen]).to.include.members(["ok", ...decodeErrors.map((code) => SOLIDITY_ERRORS[code].name)]);
    });

    it("rejects invalid tensor lists alike in encode", async function () {
        const { harness } = await loadFixture(deployHarness);
        const invalidListArb = fc
            .tuple(fc.array(tensorArb, { minLength: 1, maxLength: 4 }), fc.array(corruptionArb, { maxLength: 2 }))
            .map(([tensors, corruptions]) => corruptions.reduce(corrupt, tensors));
        await fc.assert(
            fc.asyncProperty(invalidListArb, async (tensors) => {
                const [ok, result] = await harness.tryEncode(tensors);
                const sol = solOutcome(harness, "encode", ok, result);
                const ts = tsOutcome(() => hexlify(encodeTensors(tensors)));
                expect(sol).to.deep.equal(ts);
            }),
            { numRuns: ENCODE_ERROR_RUNS },
        );
    });
});
