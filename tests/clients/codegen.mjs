// graphql-codegen's client preset over schema.graphql (the contract) and the documents a
// frontend ships (documents/*.graphql), then `tsc --strict --noEmit` over the generated code and
// typed/codegen-usage.ts, which uses the generated types with Apollo Client.
import { copyFile, writeFile } from "node:fs/promises";
import path from "node:path";

import { generate } from "@graphql-codegen/cli";

import { here, outputDir, tail, tsc } from "./lib.mjs";

/** The compiler options a strict frontend project uses (bundler resolution, no emit). */
export const STRICT_TSCONFIG = {
  compilerOptions: {
    strict: true,
    noEmit: true,
    target: "ES2022",
    module: "ESNext",
    moduleResolution: "Bundler",
    lib: ["ES2022", "DOM"],
    types: [],
    skipLibCheck: true,
    forceConsistentCasingInFileNames: true,
  },
  include: ["**/*.ts"],
};

async function codegen(ctx) {
  const out = await outputDir("codegen");
  const schema = path.join(ctx.root, "schema.graphql");
  try {
    await generate(
      {
        schema,
        documents: path.join(here, "documents", "*.graphql"),
        silent: true,
        errorsOnly: true,
        generates: {
          [`${out}/gql/`]: {
            preset: "client",
            presetConfig: { fragmentMasking: { unmaskFunctionName: "getFragmentData" } },
            config: {
              scalars: { DateTime: "string" },
              strictScalars: true,
              enumType: "string-literal",
              useTypeImports: true,
            },
          },
        },
      },
      true,
    );
  } catch (error) {
    throw new Error(`graphql-codegen failed:\n    ${tail(String(error?.message ?? error), 20)}`);
  }
  await copyFile(path.join(here, "typed", "codegen-usage.ts"), path.join(out, "usage.ts"));
  await writeFile(path.join(out, "tsconfig.json"), JSON.stringify(STRICT_TSCONFIG, null, 2));
  const { code, output } = await tsc(path.join(out, "tsconfig.json"));
  if (code !== 0) throw new Error(`tsc --strict over the generated code failed:\n    ${tail(output, 20)}`);
  return "4 documents typed, usage compiles under --strict";
}

export const checks = [{ name: "codegen-typescript", run: codegen }];
