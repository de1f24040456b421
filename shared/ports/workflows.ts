/** Starts the long-running lifecycle workflows. Step Functions on AWS, an in-process runner locally. */
export interface InstanceRef {
  clientId: string;
  instanceId: string;
}

export interface Workflows {
  startProvisioning(ref: InstanceRef): Promise<void>;
  startTermination(ref: InstanceRef): Promise<void>;
  /** STOPPING → STOPPED once the provider has stopped the machine. */
  startStopping(ref: InstanceRef, options?: { force?: boolean }): Promise<void>;
  /** STARTING → READY once the provider reports the machine up. */
  startStarting(ref: InstanceRef): Promise<void>;
}
