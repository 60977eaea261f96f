/**
 * Writes the small example models into models/ and prints the hashes to register them with:
 *
 *     npx ts-node models/build.ts
 *
 * For each model: `<name>.onnx` (manifest embedded) and `<name>.manifest.json` (the exact embedded manifest
 * string, so its keccak256 is the manifestHash). The builds are deterministic: rerunning rewrites identical bytes.
 */
import { writeFileSync } from "node:fs";
import { join } from "node:path";
import { keccak256 } from "ethers";
import { manifestHash } from "../oracle/src/protocol/manifest";
import { multiIOFloatModel, tinyIntegerModel, type ExampleModel } from "./examples";

const MODELS: readonly { name: string; build: () => ExampleModel }[] = [
    { name: "tiny-int", build: tinyIntegerModel },
    { name: "multi-io-float", build: multiIOFloatModel },
];

function main(): void {
    for (const { name, build } of MODELS) {
        const model = build();
        const onnxPath = join(__dirname, `${name}.onnx`);
        const manifestPath = join(__dirname, `${name}.manifest.json`);
        writeFileSync(onnxPath, model.onnx);
        writeFileSync(manifestPath, model.manifestJson);
        console.log(`${name}`);
        console.log(`  ${onnxPath} (${model.onnx.length} bytes)`);
        console.log(`  onnxHash     ${keccak256(model.onnx)}`);
        console.log(`  manifestHash ${manifestHash(model.manifestJson)}`);
    }
}

main();
