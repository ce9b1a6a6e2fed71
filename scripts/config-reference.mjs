/** `npm run docs:config`: writes docs/configuration.md from broker/node/env-vars.ts (through tsx). */
import { writeFileSync } from 'node:fs';
import { renderConfigurationReference } from '../broker/node/env-vars.ts';

writeFileSync('docs/configuration.md', renderConfigurationReference());
