/** Starts the long-running lifecycle workflows. Step Functions on AWS, an in-process runner locally. */
export interface InstanceRef {
  clientId: string;
  instanceId: string;
}

export interface Workflows {
  startProvisioning(ref: InstanceRef): Promise<void>;
  startTermination(ref: InstanceRef): Promise<void>;
}
