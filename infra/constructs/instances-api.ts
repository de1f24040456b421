import { Duration, RemovalPolicy, Validations } from 'aws-cdk-lib';
import { AccessLogFormat } from 'aws-cdk-lib/aws-apigateway';
import {
  CorsHttpMethod,
  HttpApi,
  HttpMethod,
  HttpStage,
  LogGroupLogDestination,
  type ThrottleSettings,
} from 'aws-cdk-lib/aws-apigatewayv2';
import { HttpLambdaIntegration } from 'aws-cdk-lib/aws-apigatewayv2-integrations';
import type { ITableV2 } from 'aws-cdk-lib/aws-dynamodb';
import type { IKey } from 'aws-cdk-lib/aws-kms';
import { LogGroup, RetentionDays } from 'aws-cdk-lib/aws-logs';
import { Construct } from 'constructs';
import { API_AREAS, ROUTES, type ApiArea } from '../../shared/http/routes.ts';
import { ProjectFunction, type SecretsAccess, type TableAccess } from './project-function.ts';

/**
 * Table access per API area. A Record over ApiArea, so a new area does not compile until someone
 * decides what it may touch. `public` (liveness, the OpenAPI document) reads nothing.
 */
const TABLE_ACCESS: Record<ApiArea, TableAccess | undefined> = {
  public: undefined,
  clients: 'RW',
  instances: 'RW',
  accounts: 'RW',
  webhooks: 'RW',
  // Stores hashed WebSocket tickets.
  realtime: 'RW',
};

/**
 * Use of the secrets key per API area, a Record over ApiArea like TABLE_ACCESS. `accounts` seals
 * the credentials of new accounts and opens them to test a connection; `instances` opens them to
 * build a provider; `webhooks` seals endpoints' signing secrets. `public` and `clients` never see credentials.
 */
const SECRETS_ACCESS: Record<ApiArea, SecretsAccess | undefined> = {
  public: undefined,
  clients: undefined,
  instances: 'OPEN',
  accounts: 'SEAL',
  // Seals the whsec_ secret of a new or rotated endpoint.
  webhooks: 'SEAL',
  realtime: undefined,
};

/** HTTP API access-log fields ($context variables of HTTP APIs, not REST APIs). */
const ACCESS_LOG_FORMAT = AccessLogFormat.custom(
  JSON.stringify({
    requestId: '$context.requestId',
    requestTime: '$context.requestTime',
    routeKey: '$context.routeKey',
    status: '$context.status',
    protocol: '$context.protocol',
    responseLength: '$context.responseLength',
    responseLatency: '$context.responseLatency',
    integrationLatency: '$context.integrationLatency',
    integrationError: '$context.integrationErrorMessage',
    sourceIp: '$context.identity.sourceIp',
    userAgent: '$context.identity.userAgent',
  }),
);

export interface InstancesApiProps {
  readonly table: ITableV2;
  /** The key that seals provider-account credentials (see SECRETS_ACCESS). */
  readonly secretsKey: IKey;
  /** Name of the HTTP API resource. */
  readonly apiName: string;
  /** Environment shared by every API function (stage, runtime flavour…). */
  readonly environment?: Record<string, string>;
  /** @default ['*'] — callers authenticate with a bearer key, not cookies */
  readonly corsAllowOrigins?: string[];
  /** @default 50 requests per second, bursts of 100 */
  readonly throttle?: ThrottleSettings;
  readonly logRetention?: RetentionDays;
  readonly logRemovalPolicy?: RemovalPolicy;
}

/**
 * The HTTPS JSON API: one HTTP API whose routes come from the shared route table, one function
 * per API area (`functions/api/<area>.ts`), access logs and throttling on the default stage.
 */
export class InstancesApi extends Construct {
  readonly httpApi: HttpApi;
  readonly stage: HttpStage;
  readonly functions: Record<ApiArea, ProjectFunction>;
  /** Base URL of the API; routes start with `/api`. */
  readonly url: string;

  constructor(scope: Construct, id: string, props: InstancesApiProps) {
    super(scope, id);

    this.httpApi = new HttpApi(this, 'HttpApi', {
      apiName: props.apiName,
      description: 'Hangar HTTPS JSON API',
      // The stage is created below so that it can carry access logs and throttling.
      createDefaultStage: false,
      corsPreflight: {
        allowOrigins: props.corsAllowOrigins ?? ['*'],
        allowMethods: [
          CorsHttpMethod.GET,
          CorsHttpMethod.POST,
          CorsHttpMethod.PATCH,
          CorsHttpMethod.PUT,
          CorsHttpMethod.DELETE,
          CorsHttpMethod.OPTIONS,
        ],
        allowHeaders: ['authorization', 'content-type', 'idempotency-key', 'if-match'],
        // Browsers show a cross-origin client the ETag it must send back as If-Match.
        exposeHeaders: ['etag'],
        maxAge: Duration.hours(1),
      },
    });
    Validations.of(this.httpApi).acknowledge({
      id: 'AwsSolutions-APIG4',
      reason:
        'Authentication happens inside the functions: the shared middy stack resolves the bearer API key (hashed ' +
        'lookup, tenant and role) and answers the JSON 401 body the API contract requires, which an HTTP API ' +
        'authorizer cannot return. /api/health and /api/openapi.json are public by design.',
    });

    const accessLogs = new LogGroup(this, 'AccessLogs', {
      retention: props.logRetention ?? RetentionDays.ONE_MONTH,
      removalPolicy: props.logRemovalPolicy ?? RemovalPolicy.DESTROY,
    });
    this.stage = new HttpStage(this, 'DefaultStage', {
      httpApi: this.httpApi,
      stageName: '$default',
      autoDeploy: true,
      throttle: props.throttle ?? { rateLimit: 50, burstLimit: 100 },
      accessLogSettings: { destination: new LogGroupLogDestination(accessLogs), format: ACCESS_LOG_FORMAT },
    });
    this.url = this.stage.url;

    const functions: Partial<Record<ApiArea, ProjectFunction>> = {};
    for (const area of API_AREAS) {
      const fn = new ProjectFunction(this, `${pascalCase(area)}Function`, {
        entry: `functions/api/${area}.ts`,
        description: `Hangar API: ${area} routes`,
        environment: props.environment,
        logRetention: props.logRetention,
        logRemovalPolicy: props.logRemovalPolicy,
      });
      const access = TABLE_ACCESS[area];
      if (access) fn.bindTable(props.table, access);
      const secrets = SECRETS_ACCESS[area];
      if (secrets) fn.bindSecrets(props.secretsKey, secrets);
      functions[area] = fn;
    }
    this.functions = functions as Record<ApiArea, ProjectFunction>;

    const integrations = new Map<ApiArea, HttpLambdaIntegration>();
    const integrationOf = (area: ApiArea) => {
      let integration = integrations.get(area);
      if (!integration) {
        integration = new HttpLambdaIntegration(`${pascalCase(area)}Integration`, this.functions[area].function);
        integrations.set(area, integration);
      }
      return integration;
    };
    for (const route of ROUTES) {
      this.httpApi.addRoutes({ path: route.path, methods: [HttpMethod[route.method]], integration: integrationOf(route.area) });
    }
  }
}

const pascalCase = (kebab: string) =>
  kebab
    .split('-')
    .map((part) => part.charAt(0).toUpperCase() + part.slice(1))
    .join('');
