import type { Instance } from '../../shared/domain/instance.ts';
import type { InstanceRef } from '../../shared/ports/workflows.ts';
import type { ProvisioningSteps } from '../../shared/services/provisioning.ts';

/** Drive the provisioning steps to READY as the workflow would (reserve, launch, then poll until up), for tests that start from there. */
export async function provisionToReady(steps: ProvisioningSteps, ref: InstanceRef, maxPolls = 20): Promise<Instance> {
  await steps.reserve(ref);
  await steps.launch(ref);
  for (let polls = 1; ; polls++) {
    const { done, instance } = await steps.poll(ref);
    if (done) return instance;
    if (polls >= maxPolls) throw new Error(`${ref.instanceId} was not up after ${maxPolls} polls`);
  }
}
