import { Aws } from 'aws-cdk-lib';
import { PolicyStatement } from 'aws-cdk-lib/aws-iam';
import { CLIENT_TAG, DEPLOYMENT_TAG, OWNER_TAG } from '../../shared/adapters/aws/ec2-launch-request.ts';

/**
 * What a function may do to EC2 machines through the deployment's own role (accounts with `{}`
 * credentials), and which roles it may assume (accounts with `{roleArn, externalId}`).
 *
 * - `OBSERVE`: describe machines and the catalog, test a connection (health checks, the accounts
 *   API's connection test and live catalog, the instances API's check-now).
 * - `RECONCILE`: also terminate the deployment's own machines (the sync ends confirmed orphans).
 * - `OPERATE`: also launch machines carrying Hangar's tags, and stop, start and reboot the
 *   deployment's own machines (the workflow steps).
 */
export type ComputeAccess = 'OBSERVE' | 'RECONCILE' | 'OPERATE';

/**
 * Every Describe call of the EC2 adapter (shared/adapters/aws: ec2-provider.ts, ec2-catalog.ts).
 * EC2's Describe actions support no resource-level permissions: AWS requires Resource "*".
 */
export const EC2_DESCRIBE_ACTIONS = [
  'ec2:DescribeImages',
  'ec2:DescribeInstanceTypes',
  'ec2:DescribeInstances',
  'ec2:DescribeKeyPairs',
  'ec2:DescribeRegions',
  'ec2:DescribeSecurityGroups',
  'ec2:DescribeSubnets',
  'ec2:DescribeVpcs',
];

const LIFECYCLE_ACTIONS: Record<ComputeAccess, string[]> = {
  OBSERVE: [],
  RECONCILE: ['ec2:TerminateInstances'],
  OPERATE: ['ec2:RebootInstances', 'ec2:StartInstances', 'ec2:StopInstances', 'ec2:TerminateInstances'],
};

const ec2Arn = (resource: string, account: string = Aws.ACCOUNT_ID) => `arn:${Aws.PARTITION}:ec2:*:${account}:${resource}/*`;

/** What RunInstances creates and tags (the adapter's TagSpecifications name these two). */
export const TAGGED_AT_LAUNCH = ['instance', 'volume'];
/** What RunInstances uses without creating a tagged resource: images and snapshots have no account in their ARN. */
const USED_AT_LAUNCH = [ec2Arn('image', ''), ec2Arn('snapshot', ''), ...['subnet', 'network-interface', 'security-group', 'key-pair'].map((r) => ec2Arn(r))];

/** Every role ARN in any account: the customer's trust policy (with its externalId) decides who may assume it. */
export const ASSUMABLE_ROLES = `arn:${Aws.PARTITION}:iam::*:role/*`;

/** The statements for `access`, each machine action scoped by the tags that mark `deployment`'s machines. */
export function computeStatements(access: ComputeAccess, deployment: string): PolicyStatement[] {
  const requestTags = {
    StringEquals: { [`aws:RequestTag/${DEPLOYMENT_TAG}`]: deployment },
    Null: { [`aws:RequestTag/${OWNER_TAG}`]: 'false', [`aws:RequestTag/${CLIENT_TAG}`]: 'false' },
  };
  const statements = [
    new PolicyStatement({ sid: 'DescribeMachinesAndCatalog', actions: EC2_DESCRIBE_ACTIONS, resources: ['*'] }),
    new PolicyStatement({ sid: 'AssumeAccountRoles', actions: ['sts:AssumeRole'], resources: [ASSUMABLE_ROLES] }),
  ];
  if (LIFECYCLE_ACTIONS[access].length > 0) {
    statements.push(
      new PolicyStatement({
        sid: 'ActOnOwnMachines',
        actions: LIFECYCLE_ACTIONS[access],
        resources: [ec2Arn('instance')],
        conditions: {
          StringEquals: { [`ec2:ResourceTag/${DEPLOYMENT_TAG}`]: deployment },
          Null: { [`ec2:ResourceTag/${OWNER_TAG}`]: 'false' },
        },
      }),
    );
  }
  if (access === 'OPERATE') {
    statements.push(
      // The instance and its root volume come into being only with Hangar's tags on the request.
      new PolicyStatement({
        sid: 'LaunchOnlyTagged',
        actions: ['ec2:RunInstances'],
        resources: TAGGED_AT_LAUNCH.map((r) => ec2Arn(r)),
        conditions: requestTags,
      }),
      new PolicyStatement({ sid: 'LaunchFrom', actions: ['ec2:RunInstances'], resources: USED_AT_LAUNCH }),
      // Tags only as part of that launch: CreateTags on its own (retagging any machine) is not allowed.
      new PolicyStatement({
        sid: 'TagAtLaunch',
        actions: ['ec2:CreateTags'],
        resources: TAGGED_AT_LAUNCH.map((r) => ec2Arn(r)),
        conditions: { ...requestTags, StringEquals: { ...requestTags.StringEquals, 'ec2:CreateAction': 'RunInstances' } },
      }),
    );
  }
  return statements;
}

/** Why each wildcard resource of computeStatements is as narrow as it can be, keyed by resource. */
export function computeWildcardReasons(access: ComputeAccess): Record<string, string> {
  const reasons: Record<string, string> = {
    '*':
      'EC2 Describe actions (DescribeInstances, DescribeImages, DescribeInstanceTypes, DescribeSubnets, …) support no ' +
      'resource-level permissions, so AWS requires Resource "*" for them; only the Describe calls the EC2 adapter makes are listed.',
    [ASSUMABLE_ROLES]:
      "Accounts with {roleArn, externalId} name a role in the customer's AWS account, known only at run time. The adapter " +
      "passes the account's externalId, and the customer's trust policy on that role decides whether this role may assume it.",
  };
  if (access === 'OBSERVE') return reasons;
  reasons[ec2Arn('instance')] =
    `Machines are created at run time, so their ids are unknown at deploy time: the actions on instance/* are allowed only ` +
    `when the instance carries ${DEPLOYMENT_TAG} of this stage and ${OWNER_TAG} (ec2:ResourceTag), or, at launch, when the ` +
    'request carries those tags (aws:RequestTag).';
  if (access === 'RECONCILE') return reasons;
  reasons[ec2Arn('volume')] =
    "A machine's root volume is created by RunInstances: allowed only when the request tags it as this stage's (aws:RequestTag), " +
    'and CreateTags only as part of that launch (ec2:CreateAction = RunInstances).';
  for (const resource of USED_AT_LAUNCH) {
    reasons[resource] =
      'RunInstances also authorizes the image, snapshots, subnet, network interface, security groups and key pair the ' +
      "tenant's launch names (chosen per instance, by name or id, at run time); the instance it creates must still carry " +
      "this stage's tags.";
  }
  return reasons;
}
