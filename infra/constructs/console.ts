import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { Aws, Duration, RemovalPolicy, Stack, Validations } from 'aws-cdk-lib';
import type { IHttpApi } from 'aws-cdk-lib/aws-apigatewayv2';
import {
  AllowedMethods,
  CacheCookieBehavior,
  CachePolicy,
  CacheHeaderBehavior,
  CacheQueryStringBehavior,
  Distribution,
  HeadersFrameOption,
  HeadersReferrerPolicy,
  HttpVersion,
  OriginProtocolPolicy,
  OriginRequestPolicy,
  PriceClass,
  ResponseHeadersPolicy,
  SecurityPolicyProtocol,
  ViewerProtocolPolicy,
} from 'aws-cdk-lib/aws-cloudfront';
import { HttpOrigin, S3BucketOrigin } from 'aws-cdk-lib/aws-cloudfront-origins';
import { BlockPublicAccess, Bucket, BucketEncryption, ObjectOwnership } from 'aws-cdk-lib/aws-s3';
import { BucketDeployment, CacheControl, Source } from 'aws-cdk-lib/aws-s3-deployment';
import { Construct } from 'constructs';
import { nagResource } from './nag.ts';
import { CONSOLE_DIR, consoleConfig, contentSecurityPolicy, NODE_MODULES_DIR, VENDOR_FILES } from '../local/console-server.ts';

export interface WebConsoleProps {
  /** The stage's HTTP API: CloudFront sends `/api/*` to it, so the console and the API share one origin. */
  readonly httpApi: IHttpApi;
  readonly stageName: string;
  /** What happens to the buckets when the stack is deleted (ephemeral stages: destroyed with their objects). */
  readonly removalPolicy: RemovalPolicy;
  /** The stage's WebSocket URL for config.json, once the stage has one; the console asks the ticket route either way. */
  readonly websocketUrl?: string;
  /** @default the repository's console/ and node_modules/ */
  readonly consoleDir?: string;
  readonly nodeModulesDir?: string;
}

/**
 * The web console on AWS: its files in a private, encrypted, SSL-only bucket that only CloudFront
 * reads (origin access control), `/api/*` passed through to the HTTP API uncached with every
 * method and the Authorization header, and the same content security policy the local runtime sends.
 */
export class WebConsole extends Construct {
  readonly bucket: Bucket;
  readonly logBucket: Bucket;
  readonly distribution: Distribution;
  readonly url: string;

  constructor(scope: Construct, id: string, props: WebConsoleProps) {
    super(scope, id);
    const consoleDir = props.consoleDir ?? CONSOLE_DIR;
    const nodeModulesDir = props.nodeModulesDir ?? NODE_MODULES_DIR;
    const destroy = props.removalPolicy === RemovalPolicy.DESTROY;

    this.logBucket = new Bucket(this, 'LogBucket', {
      blockPublicAccess: BlockPublicAccess.BLOCK_ALL,
      encryption: BucketEncryption.S3_MANAGED,
      enforceSSL: true,
      // CloudFront standard logs are delivered with an ACL.
      objectOwnership: ObjectOwnership.OBJECT_WRITER,
      lifecycleRules: [{ expiration: Duration.days(90) }],
      removalPolicy: props.removalPolicy,
      autoDeleteObjects: destroy,
    });
    Validations.of(this.logBucket).acknowledge({
      id: 'AwsSolutions-S1',
      reason: 'This bucket receives the access logs of the console bucket and the distribution; logging it into itself would loop.',
    });

    this.bucket = new Bucket(this, 'Bucket', {
      blockPublicAccess: BlockPublicAccess.BLOCK_ALL,
      encryption: BucketEncryption.S3_MANAGED,
      enforceSSL: true,
      serverAccessLogsBucket: this.logBucket,
      serverAccessLogsPrefix: 'bucket/',
      removalPolicy: props.removalPolicy,
      autoDeleteObjects: destroy,
    });

    const indexHtml = readFileSync(join(consoleDir, 'index.html'), 'utf8');
    // The ticket's URL is the stage's WebSocket API on execute-api: the only other place the page connects to.
    const websocketOrigin = `wss://*.execute-api.${Aws.REGION}.${Aws.URL_SUFFIX}`;
    const headers = new ResponseHeadersPolicy(this, 'Headers', {
      comment: `Hangar ${props.stageName} console: CSP (import map by hash), no framing, no sniffing, HSTS`,
      securityHeadersBehavior: {
        contentSecurityPolicy: { contentSecurityPolicy: contentSecurityPolicy(indexHtml, { connect: [websocketOrigin] }), override: true },
        contentTypeOptions: { override: true },
        frameOptions: { frameOption: HeadersFrameOption.DENY, override: true },
        referrerPolicy: { referrerPolicy: HeadersReferrerPolicy.NO_REFERRER, override: true },
        strictTransportSecurity: { accessControlMaxAge: Duration.days(365), includeSubdomains: true, override: true },
      },
    });

    // The API is never cached; Authorization reaches it as a cache-key header (an origin request
    // policy may not forward it), with TTLs of zero so every answer comes from the API.
    const apiPassThrough = new CachePolicy(this, 'ApiPassThrough', {
      comment: 'Hangar /api/*: nothing cached, Authorization and Idempotency-Key forwarded',
      minTtl: Duration.seconds(0),
      defaultTtl: Duration.seconds(0),
      maxTtl: Duration.seconds(1),
      headerBehavior: CacheHeaderBehavior.allowList('Authorization', 'Idempotency-Key'),
      queryStringBehavior: CacheQueryStringBehavior.all(),
      cookieBehavior: CacheCookieBehavior.none(),
      enableAcceptEncodingGzip: true,
      enableAcceptEncodingBrotli: true,
    });

    this.distribution = new Distribution(this, 'Distribution', {
      comment: `Hangar ${props.stageName}: the web console and /api`,
      defaultRootObject: 'index.html',
      httpVersion: HttpVersion.HTTP2_AND_3,
      priceClass: PriceClass.PRICE_CLASS_100,
      minimumProtocolVersion: SecurityPolicyProtocol.TLS_V1_2_2021,
      enableLogging: true,
      logBucket: this.logBucket,
      logFilePrefix: 'distribution/',
      defaultBehavior: {
        origin: S3BucketOrigin.withOriginAccessControl(this.bucket),
        viewerProtocolPolicy: ViewerProtocolPolicy.REDIRECT_TO_HTTPS,
        allowedMethods: AllowedMethods.ALLOW_GET_HEAD,
        cachePolicy: CachePolicy.CACHING_OPTIMIZED,
        responseHeadersPolicy: headers,
      },
      additionalBehaviors: {
        '/api/*': {
          origin: new HttpOrigin(`${props.httpApi.apiId}.execute-api.${Aws.REGION}.${Aws.URL_SUFFIX}`, {
            protocolPolicy: OriginProtocolPolicy.HTTPS_ONLY,
          }),
          viewerProtocolPolicy: ViewerProtocolPolicy.HTTPS_ONLY,
          allowedMethods: AllowedMethods.ALLOW_ALL,
          cachePolicy: apiPassThrough,
          // Every viewer header but Host: API Gateway routes by its own host name.
          originRequestPolicy: OriginRequestPolicy.ALL_VIEWER_EXCEPT_HOST_HEADER,
        },
      },
    });
    Validations.of(this.distribution).acknowledge(
      {
        id: 'AwsSolutions-CFR1',
        reason: 'Hangar serves its clients wherever they are; access is by API key, not by country.',
      },
      {
        id: 'AwsSolutions-CFR2',
        reason: 'The API behind /api/* is throttled at API Gateway and every call needs an API key; a WAF web ACL is a per-deployment choice left to the operator.',
      },
      {
        id: 'AwsSolutions-CFR4',
        reason: 'The default *.cloudfront.net certificate allows TLSv1 at the edge; a stage with its own domain and certificate gets TLSv1.2_2021, set above.',
      },
    );

    this.url = `https://${this.distribution.distributionDomainName}`;

    const vendor = Object.entries(VENDOR_FILES).map(([name, path]) =>
      Source.data(`vendor/${name}`, readFileSync(join(nodeModulesDir, path), 'utf8')),
    );
    new BucketDeployment(this, 'Files', {
      destinationBucket: this.bucket,
      sources: [
        Source.asset(consoleDir),
        ...vendor,
        // Same origin: the API is at /api on this distribution.
        Source.jsonData('config.json', consoleConfig({ apiBase: '', stage: props.stageName, websocketUrl: props.websocketUrl })),
      ],
      // Files are not content-hashed (no build step): browsers revalidate, and the deployment invalidates the edge.
      cacheControl: [CacheControl.noCache()],
      distribution: this.distribution,
      distributionPaths: ['/*'],
      prune: true,
      memoryLimit: 256,
    });
    // The deployment's function is a singleton CDK places on the stack, not under this construct.
    const provider = Stack.of(this).node.children.find((c) => c.node.id.startsWith('Custom::CDKBucketDeployment'));
    if (!provider) throw new Error('BucketDeployment did not create its provider function where CDK puts it');
    const role = 'CDK creates and owns the BucketDeployment provider function';
    Validations.of(provider).acknowledge(
      {
        id: 'AwsSolutions-IAM4[Policy::arn:<AWS::Partition>:iam::aws:policy/service-role/AWSLambdaBasicExecutionRole]',
        reason: `${role}; it logs with AWSLambdaBasicExecutionRole, which CDK attaches.`,
      },
      ...['s3:GetBucket*', 's3:GetObject*', 's3:List*', 's3:Abort*', 's3:DeleteObject*'].map((action) => ({
        id: `AwsSolutions-IAM5[Action::${action}]`,
        reason: `${role}: CDK grants it ${action} to copy the assets and prune the console bucket.`,
      })),
      {
        id: `AwsSolutions-IAM5[Resource::arn:<AWS::Partition>:s3:::cdk-hnb659fds-assets-<AWS::AccountId>-<AWS::Region>/*]`,
        reason: `${role}: it reads the console's files from the CDK bootstrap assets bucket.`,
      },
      {
        id: `AwsSolutions-IAM5[Resource::${nagResource(this, this.bucket.bucketArn)}/*]`,
        reason: `${role}: it writes and prunes every object of the console bucket, and only that bucket.`,
      },
      {
        id: 'AwsSolutions-IAM5[Resource::*]',
        reason: `${role}: CloudFront invalidations (CreateInvalidation/GetInvalidation) have no resource-level scoping CDK uses.`,
      },
      {
        id: 'AwsSolutions-L1',
        reason: "The BucketDeployment provider's runtime is chosen by the CDK version in package.json, not by Hangar.",
      },
    );
  }
}
