#!/usr/bin/env node
require("../lib/launch.js")("install-hooks");
