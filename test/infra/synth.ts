/**
 * Synthesizes the Hangar app the way `cdk synth` would, offline, for the infra tests: the
 * feature flags of cdk.json, bundling skipped, cdk-nag findings reported instead of thrown.
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { App, CfnResource, Validations, type Stack } from 'aws-cdk-lib';
import { Match, Template } from 'aws-cdk-lib/assertions';
import type { IConstruct } from 'constructs';
import { AwsSolutionsChecks } from 'cdk-nag';
import { expect } from 'vitest';
import { defineHangarApp } from '../../infra/hangar-app.ts';
import { fromRepoRoot } from '../../infra/paths.ts';

/** The same feature flags the CLI uses, so the tests synthesize what `cdk synth` would. */
const cdkJsonContext = JSON.parse(readFileSync(fromRepoRoot('cdk.json'), 'utf8')).context as Record<string, unknown>;

export interface ValidationReport {
  pluginReports: {
    pluginName: string;
    violations: { ruleName: string; severity: string; violatingConstructs: { constructPath: string }[] }[];
  }[];
}

export interface PolicyStatementJson {
  Action: string | string[];
  Resource: unknown;
  Effect?: string;
}

export function synthesize(stage: string) {
  const app = new App({
    // Bundling is skipped: no esbuild run, the assets are placeholders.
    context: {
      ...cdkJsonContext,
      'aws:cdk:bundling-stacks': [],
      stage,
      // Report nag findings in validation-report.json instead of throwing, so the tests can list them.
      '@aws-cdk/core:failSynthOnValidationErrors': false,
    },
    // CloudFormation's own template validation costs seconds per synth; `cdk synth` still runs it.
    builtinCloudFormationValidation: false,
    stackTraces: false,
  });
  const stacks = defineHangarApp(app);
  const assembly = app.synth();
  const templateOf = (stack: Stack) => Template.fromJSON(assembly.getStackArtifact(stack.artifactId).template);
  const report = JSON.parse(readFileSync(join(assembly.directory, 'validation-report.json'), 'utf8')) as ValidationReport;
  return { app, stacks, assembly, report, stateful: templateOf(stacks.stateful), stateless: templateOf(stacks.stateless) };
}

export type Synthesized = ReturnType<typeof synthesize>;

/** Follows a cross-stack reference (Fn::GetStackOutput) back to the stateful stack's output value. */
export function producerValue({ stacks, stateful }: Pick<Synthesized, 'stacks' | 'stateful'>, reference: unknown): unknown {
  const ref = (reference as { 'Fn::GetStackOutput'?: { StackName: string; OutputName: string } })['Fn::GetStackOutput'];
  if (!ref) return reference;
  expect(ref.StackName).toBe(stacks.stateful.stackName);
  return stateful.toJSON().Outputs[ref.OutputName].Value;
}

/** The one table of the stateful stack. */
export function tableLogicalId(stateful: Template): string {
  const ids = Object.keys(stateful.findResources('AWS::DynamoDB::GlobalTable'));
  expect(ids).toHaveLength(1);
  return ids[0]!;
}

/** The one KMS key of the stateful stack: the secrets key. */
export function secretsKeyLogicalId(stateful: Template): string {
  const ids = Object.keys(stateful.findResources('AWS::KMS::Key'));
  expect(ids).toHaveLength(1);
  return ids[0]!;
}

/** The KMS actions granted to a role (sorted), each checked to name the secrets key and nothing else. */
export function kmsActionsOf(synthesized: Synthesized, template: Template, roleLogicalId: string): string[] {
  const keyArn = { 'Fn::GetAtt': [secretsKeyLogicalId(synthesized.stateful), 'Arn'] };
  const statements = roleStatements(template, roleLogicalId).filter((s) => actionsOf(s).some((a) => a.startsWith('kms:')));
  for (const statement of statements) {
    expect(statement.Effect).toBe('Allow');
    expect(resourcesOf(statement).map((r) => producerValue(synthesized, r))).toEqual([keyArn]);
  }
  return statements.flatMap(actionsOf).sort();
}

/** The logical id of a construct's CloudFormation resource (an L2's default child) in `stack`. */
export const logicalIdIn = (stack: Stack, construct: IConstruct) =>
  stack.getLogicalId(construct.node.defaultChild as CfnResource);

/** Every statement of every policy attached to the role with this logical id. */
export function roleStatements(template: Template, roleLogicalId: string): PolicyStatementJson[] {
  const policies = template.findResources('AWS::IAM::Policy', {
    Properties: { Roles: Match.arrayWith([{ Ref: roleLogicalId }]) },
  });
  return Object.values(policies).flatMap((p) => p.Properties.PolicyDocument.Statement);
}

export const actionsOf = (statement: { Action: string | string[] }) =>
  Array.isArray(statement.Action) ? statement.Action : [statement.Action];

export const resourcesOf = (statement: { Resource: unknown }) =>
  Array.isArray(statement.Resource) ? (statement.Resource as unknown[]) : [statement.Resource];

/** cdk-nag errors left in the synthesized validation report, as `<rule> at <construct path>`. */
export function nagErrorsInReport(report: ValidationReport): string[] {
  return report.pluginReports
    .filter((r) => r.pluginName === 'AwsSolutions')
    .flatMap((r) => r.violations)
    .filter((v) => v.severity === 'error')
    .flatMap((v) => v.violatingConstructs.map((c) => `${v.ruleName} at ${c.constructPath}`));
}

/** cdk-nag errors the AwsSolutions pack finds when it walks `scope` directly. */
export function nagErrorsIn(scope: IConstruct): string[] {
  return new AwsSolutionsChecks()
    .validateScope(scope)
    .violations.filter((v) => v.severity === 'error')
    .flatMap((v) => v.violatingResources.map((r) => `${v.ruleName} at ${r.constructPath}`));
}

/** Every acknowledged rule under `scope`: rule id, the construct it sits on, and its reason. */
export function acknowledgedRules(scope: IConstruct): { rule: string; path: string; reason: string }[] {
  const acknowledged: { rule: string; path: string; reason: string }[] = [];
  const visit = (construct: IConstruct) => {
    for (const entry of construct.node.metadata) {
      if (entry.type !== Validations.ACKNOWLEDGED_RULES_METADATA_KEY) continue;
      for (const [id, reason] of Object.entries(entry.data as Record<string, string>)) {
        acknowledged.push({ rule: id.replace(/^annotation::/i, ''), path: construct.node.path, reason });
      }
    }
    construct.node.children.forEach(visit);
  };
  visit(scope);
  return acknowledged;
}

/**
 * The acknowledgements `bindCompute(access, …)` puts on `<functionPath>/ComputePolicy`: one per
 * wildcard the EC2 and STS APIs force (Describe on `*`, any role to assume, and, for the actions on
 * machines, the resource types the tag conditions scope).
 */
export function computePolicyAcknowledgements(functionPath: string, access: 'OBSERVE' | 'RECONCILE' | 'OPERATE'): string[] {
  const ec2 = (resource: string, account = '<AWS::AccountId>') => `arn:<AWS::Partition>:ec2:*:${account}:${resource}/*`;
  const resources = ['*', 'arn:<AWS::Partition>:iam::*:role/*'];
  if (access !== 'OBSERVE') resources.push(ec2('instance'));
  if (access === 'OPERATE') {
    resources.push(ec2('volume'), ec2('image', ''), ec2('snapshot', ''));
    resources.push(...['subnet', 'network-interface', 'security-group', 'key-pair'].map((r) => ec2(r)));
  }
  return resources.map((resource) => `AwsSolutions-IAM5[Resource::${resource}] at ${functionPath}/ComputePolicy`);
}
