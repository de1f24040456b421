import { readFileSync } from 'node:fs';
import { App, RemovalPolicy, Stack } from 'aws-cdk-lib';
import { HttpApi } from 'aws-cdk-lib/aws-apigatewayv2';
import { Match, Template } from 'aws-cdk-lib/assertions';
import { beforeAll, describe, expect, it } from 'vitest';
import { WebConsole } from '../../infra/constructs/console.ts';
import { defineHangarApp } from '../../infra/hangar-app.ts';
import { CONSOLE_DIR, inlineScriptHashes, VENDOR_FILES } from '../../infra/local/console-server.ts';
import { fromRepoRoot } from '../../infra/paths.ts';
import { acknowledgedRules, nagErrorsIn } from './synth.ts';

const cdkJsonContext = JSON.parse(readFileSync(fromRepoRoot('cdk.json'), 'utf8')).context as Record<string, unknown>;

/** The console construct on its own stack, synthesized offline with bundling skipped (as in synth.ts). */
function build(removalPolicy: RemovalPolicy) {
  const app = new App({ context: { ...cdkJsonContext, 'aws:cdk:bundling-stacks': [] }, stackTraces: false });
  const stack = new Stack(app, 'ConsoleTest');
  const httpApi = new HttpApi(stack, 'Api');
  const console = new WebConsole(stack, 'Console', { httpApi, stageName: 'test', removalPolicy, websocketUrl: 'wss://ws.example.com/test' });
  return { app, stack, httpApi, console, template: Template.fromStack(stack) };
}

describe('the web console on AWS', () => {
  let built: ReturnType<typeof build>;
  let template: Template;
  beforeAll(() => {
    built = build(RemovalPolicy.DESTROY);
    template = built.template;
  });

  it('keeps the files in a private, encrypted, SSL-only bucket', () => {
    template.hasResourceProperties('AWS::S3::Bucket', {
      PublicAccessBlockConfiguration: { BlockPublicAcls: true, BlockPublicPolicy: true, IgnorePublicAcls: true, RestrictPublicBuckets: true },
      BucketEncryption: { ServerSideEncryptionConfiguration: [{ ServerSideEncryptionByDefault: { SSEAlgorithm: 'AES256' } }] },
      LoggingConfiguration: Match.objectLike({ LogFilePrefix: 'bucket/' }),
    });
    const policies = Object.values(template.findResources('AWS::S3::BucketPolicy'));
    expect(policies.length).toBeGreaterThanOrEqual(2);
    for (const policy of policies) {
      expect(policy.Properties.PolicyDocument.Statement).toEqual(
        expect.arrayContaining([
          expect.objectContaining({ Effect: 'Deny', Action: 's3:*', Condition: { Bool: { 'aws:SecureTransport': 'false' } } }),
        ]),
      );
    }
  });

  it('lets only the distribution read the bucket, through origin access control', () => {
    template.resourceCountIs('AWS::CloudFront::OriginAccessControl', 1);
    const consoleBucket = built.stack.getLogicalId(built.console.bucket.node.defaultChild as never);
    template.hasResourceProperties('AWS::S3::BucketPolicy', {
      Bucket: { Ref: consoleBucket },
      PolicyDocument: {
        Statement: Match.arrayWith([
          Match.objectLike({ Effect: 'Allow', Action: 's3:GetObject', Principal: { Service: 'cloudfront.amazonaws.com' } }),
        ]),
      },
    });
  });

  it('routes /api/* to the HTTP API uncached, with every method and the Authorization header', () => {
    const distribution = Object.values(template.findResources('AWS::CloudFront::Distribution'))[0]!.Properties.DistributionConfig;
    expect(distribution.DefaultRootObject).toBe('index.html');
    expect(distribution.DefaultCacheBehavior.ViewerProtocolPolicy).toBe('redirect-to-https');
    const api = distribution.CacheBehaviors.find((b: { PathPattern: string }) => b.PathPattern === '/api/*');
    expect(api.AllowedMethods).toEqual(['GET', 'HEAD', 'OPTIONS', 'PUT', 'PATCH', 'POST', 'DELETE']);
    const apiOrigin = distribution.Origins.find((o: { Id: string }) => o.Id === api.TargetOriginId);
    expect(apiOrigin.CustomOriginConfig.OriginProtocolPolicy).toBe('https-only');
    expect(JSON.stringify(apiOrigin.DomainName)).toContain(built.stack.getLogicalId(built.httpApi.node.defaultChild as never));

    const cachePolicy = template.findResources('AWS::CloudFront::CachePolicy')[api.CachePolicyId.Ref]!.Properties.CachePolicyConfig;
    expect(cachePolicy).toMatchObject({ DefaultTTL: 0, MinTTL: 0 });
    expect(cachePolicy.ParametersInCacheKeyAndForwardedToOrigin.HeadersConfig.Headers).toContain('Authorization');
    // AllViewerExceptHostHeader: API Gateway must see its own Host.
    expect(api.OriginRequestPolicyId).toBe('b689b0a8-53d0-40ab-baf2-68738e2966ac');
  });

  it('sends the content security policy, with the import map allowed by its hash and nothing inline besides', () => {
    const html = readFileSync(`${CONSOLE_DIR}/index.html`, 'utf8');
    const [hash] = inlineScriptHashes(html);
    const policy = Object.values(template.findResources('AWS::CloudFront::ResponseHeadersPolicy'))[0]!.Properties.ResponseHeadersPolicyConfig;
    const csp = JSON.stringify(policy.SecurityHeadersConfig.ContentSecurityPolicy.ContentSecurityPolicy);
    expect(csp).toContain(`script-src 'self' ${hash}`);
    expect(csp).not.toContain('unsafe-inline');
    expect(csp).toContain("frame-ancestors 'none'");
    expect(policy.SecurityHeadersConfig.FrameOptions.FrameOption).toBe('DENY');
    expect(policy.SecurityHeadersConfig.StrictTransportSecurity.AccessControlMaxAgeSec).toBe(31_536_000);
  });

  it('deploys the console folder, the vendor modules and a config.json with the stage, and invalidates the edge', () => {
    const deployment = Object.values(template.findResources('Custom::CDKBucketDeployment'))[0]!.Properties;
    // console/ as an asset, one data source per vendor file, and config.json.
    expect(deployment.SourceBucketNames).toHaveLength(1 + Object.keys(VENDOR_FILES).length + 1);
    expect(deployment.DistributionPaths).toEqual(['/*']);
    expect(deployment.Prune).toBe(true);
  });

  it('retains the buckets of a protected stage', () => {
    const kept = build(RemovalPolicy.RETAIN).template;
    const buckets = Object.values(kept.findResources('AWS::S3::Bucket'));
    expect(buckets.length).toBe(2);
    for (const bucket of buckets) expect(bucket.DeletionPolicy).toBe('Retain');
    kept.resourceCountIs('Custom::S3AutoDeleteObjects', 0);
  });

  it('leaves cdk-nag (AwsSolutions) nothing unacknowledged, each acknowledgement with its reason', () => {
    // The test's own HTTP API stage is not the console's concern (the stage's InstancesApi acknowledges its rules).
    expect(nagErrorsIn(built.stack).filter((e) => !e.includes('ConsoleTest/Api/'))).toEqual([]);
    for (const { rule, path, reason } of acknowledgedRules(built.stack)) expect(reason.length, `${rule} at ${path}`).toBeGreaterThan(40);
  });

  it("is part of a stage deployed with -c console=true, in front of that stage's own HTTP API", () => {
    const app = new App({ context: { ...cdkJsonContext, 'aws:cdk:bundling-stacks': [], stage: 'test', console: 'true' }, stackTraces: false });
    const { stateless } = defineHangarApp(app);
    expect(stateless.console).toBeDefined();
    const template = Template.fromStack(stateless);
    const distribution = Object.values(template.findResources('AWS::CloudFront::Distribution'))[0]!.Properties.DistributionConfig;
    const api = distribution.CacheBehaviors.find((b: { PathPattern: string }) => b.PathPattern === '/api/*');
    const origin = distribution.Origins.find((o: { Id: string }) => o.Id === api.TargetOriginId);
    expect(JSON.stringify(origin.DomainName)).toContain(stateless.getLogicalId(stateless.api.httpApi.node.defaultChild as never));
    expect(template.toJSON().Outputs.ConsoleUrl).toBeDefined();
  });

  it('is left out of a stage deployed without it', () => {
    const app = new App({ context: { ...cdkJsonContext, 'aws:cdk:bundling-stacks': [], stage: 'test' }, stackTraces: false });
    const { stateless } = defineHangarApp(app);
    expect(stateless.console).toBeUndefined();
    Template.fromStack(stateless).resourceCountIs('AWS::CloudFront::Distribution', 0);
  });
});
