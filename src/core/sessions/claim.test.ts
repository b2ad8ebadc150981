import { describeSessionClaimConformance } from './testing/claim-conformance.js';
import { InProcessSessionClaim } from './claim.js';

describeSessionClaimConformance('in-process', async () => {
  const claim = new InProcessSessionClaim();
  return [claim, claim];
});
