import type { SourcePreset } from '../../db/entities/source.js';
import { github } from './github.js';
import { genericHmac } from './hmac.js';
import type { Preset } from './preset.js';

/** The presets this build verifies; the others are refused when a source is saved. */
export const presets: Partial<Record<SourcePreset, Preset>> = {
  GITHUB: github,
  HMAC: genericHmac,
};
