// `node --import ./tests/js/register.mjs --test tests/js/`: see vocabulary-hooks.mjs.
import { register } from "node:module";

register("./vocabulary-hooks.mjs", import.meta.url);
