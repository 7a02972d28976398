// Module hooks for the web app's unit tests: the app imports `./vocabulary.js`, which the gateway serves from
// contracts and no file holds; here it is the module the gateway's own code makes (voxledger.gateway.web_vocabulary).
import { execFileSync } from "node:child_process";

const VOCABULARY = /\/web\/js\/vocabulary\.js$/;
let source = null;

export async function resolve(specifier, context, nextResolve) {
  const url = context.parentURL ? new URL(specifier, context.parentURL).href : null;
  if (url && VOCABULARY.test(url)) return { url, shortCircuit: true };
  return nextResolve(specifier, context);
}

export async function load(url, context, nextLoad) {
  if (!VOCABULARY.test(url)) return nextLoad(url, context);
  source ??= execFileSync("python", ["-m", "voxledger.gateway.web_vocabulary"], { encoding: "utf8" });
  return { format: "module", source, shortCircuit: true };
}
