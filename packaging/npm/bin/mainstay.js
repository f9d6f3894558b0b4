#!/usr/bin/env node
require("../lib/launch.js")("mainstay");
