// The sanitiser lives in definitions/, below every layer that writes outside text; ui/ keeps
// this name so its renderers import it from their own folder.
export {
  ciProviderOf,
  createSanitiser,
  type CiProvider,
  type Sanitiser,
  type SanitiserOptions,
} from '../definitions/sanitise.js';
