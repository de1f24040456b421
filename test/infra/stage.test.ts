import { App, RemovalPolicy } from 'aws-cdk-lib';
import { describe, expect, it } from 'vitest';
import { defineHangarApp } from '../../infra/hangar-app.ts';
import { DEFAULT_STAGE, InvalidStageError, isEphemeralStage, parseStage, stageConfig } from '../../infra/stage.ts';

describe('parseStage', () => {
  it('defaults to dev', () => {
    expect(parseStage(undefined)).toBe(DEFAULT_STAGE);
    expect(parseStage('')).toBe('dev');
  });

  it.each(['dev', 'prod', 'staging', 'pr-42', 'eu1', 'team-a-dev'])('accepts %s', (stage) => {
    expect(parseStage(stage)).toBe(stage);
  });

  it.each(['Prod', 'my_stage', '-dev', 'dev-', 'a--b', '42', 'stage with space', 'x'.repeat(21), 7, true])(
    'rejects %s with a message that says what a stage may be',
    (stage) => {
      expect(() => parseStage(stage)).toThrow(InvalidStageError);
      expect(() => parseStage(stage)).toThrow(/lowercase letters and digits in kebab-case/);
    },
  );

  it('is checked before any stack is defined', () => {
    const app = new App({ context: { stage: 'Prod' } });
    expect(() => defineHangarApp(app)).toThrow(InvalidStageError);
    expect(app.node.children).toHaveLength(0);
  });
});

describe('stage protection', () => {
  it.each(['dev', 'test', 'sandbox', 'dev-alice', 'test-e2e', 'pr-42'])('treats %s as throwaway', (stage) => {
    expect(isEphemeralStage(stage)).toBe(true);
    expect(stageConfig(stage).removalPolicy).toBe(RemovalPolicy.DESTROY);
  });

  it.each(['prod', 'staging', 'production', 'developer', 'demo'])('protects %s', (stage) => {
    expect(isEphemeralStage(stage)).toBe(false);
    expect(stageConfig(stage).removalPolicy).toBe(RemovalPolicy.RETAIN);
  });
});

describe('the deployment\'s own AWS account', () => {
  it('is off unless the context turns it on, from the command line (a string) or cdk.json (a boolean)', () => {
    expect(stageConfig('prod').allowDeploymentAwsAccount).toBe(false);
    expect(stageConfig('prod', { allowDeploymentAwsAccount: 'true' }).allowDeploymentAwsAccount).toBe(true);
    expect(stageConfig('prod', { allowDeploymentAwsAccount: true }).allowDeploymentAwsAccount).toBe(true);
    expect(stageConfig('prod', { allowDeploymentAwsAccount: 'yes' }).allowDeploymentAwsAccount).toBe(false);
  });
});
