// The vmbot command line as a process of its own (bin/vmbot.js runs the same main from dist/).
import { main } from '../../../src/cli.js';

await main(process.argv);
