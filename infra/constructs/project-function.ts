import { AssetHashType, DockerImage, Duration, RemovalPolicy, Validations } from 'aws-cdk-lib';
import type { ITableV2 } from 'aws-cdk-lib/aws-dynamodb';
import { Policy, PolicyStatement, Role, ServicePrincipal } from 'aws-cdk-lib/aws-iam';
import type { IKey } from 'aws-cdk-lib/aws-kms';
import { Architecture, Code, Function as LambdaFunction, Runtime, Tracing } from 'aws-cdk-lib/aws-lambda';
import { LogGroup, RetentionDays } from 'aws-cdk-lib/aws-logs';
import { Construct } from 'constructs';
import { SECRETS_KEY_VARIABLE } from '../../shared/adapters/aws/kms-secret-box.ts';
import { TABLE } from '../../shared/db/table-definition.ts';
import { REPO_ROOT } from '../paths.ts';
import { BUNDLE_ENTRY_FILE, bundleFunction } from './function-bundle.ts';
import { computeStatements, computeWildcardReasons, type ComputeAccess } from './compute-access.ts';
import { nagResource } from './nag.ts';

export type TableAccess = 'RO' | 'RW';

/**
 * Use of the secrets key. `OPEN` decrypts sealed secrets (building a provider from an account);
 * `SEAL` also issues new data keys (storing an account's credentials).
 */
export type SecretsAccess = 'OPEN' | 'SEAL';

/** What the KMS secret box calls (shared/adapters/aws/kms-secret-box.ts), and nothing else: no Encrypt, no ReEncrypt, no key management. */
const SECRETS_ACTIONS: Record<SecretsAccess, string[]> = {
  OPEN: ['kms:Decrypt'],
  SEAL: ['kms:GenerateDataKey', 'kms:Decrypt'],
};

/**
 * Item-level actions only. No Scan (the design forbids it on request paths) and no table
 * management. Transactions need no actions of their own: DynamoDB authorizes each
 * TransactWriteItems/TransactGetItems element against the Put/Update/Delete/ConditionCheck/Get
 * action it performs.
 */
const READ_ACTIONS = ['dynamodb:GetItem', 'dynamodb:BatchGetItem', 'dynamodb:Query', 'dynamodb:ConditionCheckItem'];
const WRITE_ACTIONS = ['dynamodb:PutItem', 'dynamodb:UpdateItem', 'dynamodb:DeleteItem', 'dynamodb:BatchWriteItem'];

export interface ProjectFunctionProps {
  /** The handler file, relative to the repository root, e.g. `functions/api/instances.ts`. */
  readonly entry: string;
  /**
   * A fixed physical name, for a function whose ARN must be known before it exists (e.g. a
   * schedule target named in the environment of functions it depends on). @default generated
   */
  readonly functionName?: string;
  /** The exported handler name. @default 'handler' */
  readonly handler?: string;
  readonly description?: string;
  /** @default 512 */
  readonly memorySize?: number;
  /** @default 10 seconds (the HTTP API gives up on an integration after 30) */
  readonly timeout?: Duration;
  /** POWERTOOLS_SERVICE_NAME. @default 'hangar' */
  readonly serviceName?: string;
  /** Extra environment; TABLE_NAME comes from `bindTable`, SECRETS_KMS_KEY_ID from `bindSecrets`. */
  readonly environment?: Record<string, string>;
  /** Reserved concurrency: at most this many invocations at once. @default unreserved */
  readonly reservedConcurrentExecutions?: number;
  /** @default one month */
  readonly logRetention?: RetentionDays;
  /** What happens to the log group when the stack is deleted. @default RemovalPolicy.DESTROY */
  readonly logRemovalPolicy?: RemovalPolicy;
}

/**
 * Every Lambda function of the project: Node.js 22 on arm64 (the code itself also runs on Node.js 20, as CI
 * and the local runtime do), traced, logging to its own log group
 * with a retention, bundled by esbuild as minified, tree-shaken ESM that carries its own AWS SDK,
 * split so that cloud adapters load on first use (./function-bundle.ts). Its role starts empty (writes to its own log group, X-Ray) and gains table and key access
 * only through `bindTable` and `bindSecrets`, which keep each grant next to the variable that names
 * the table or the key.
 */
export class ProjectFunction extends Construct {
  readonly function: LambdaFunction;
  readonly role: Role;
  readonly logGroup: LogGroup;

  constructor(scope: Construct, id: string, props: ProjectFunctionProps) {
    super(scope, id);

    this.logGroup = new LogGroup(this, 'LogGroup', {
      retention: props.logRetention ?? RetentionDays.ONE_MONTH,
      removalPolicy: props.logRemovalPolicy ?? RemovalPolicy.DESTROY,
    });

    // A role of our own instead of AWSLambdaBasicExecutionRole: it may write to this function's
    // log group only, not create or write to any group in the account.
    this.role = new Role(this, 'Role', {
      assumedBy: new ServicePrincipal('lambda.amazonaws.com'),
      description: `Execution role of ${this.node.path}`,
    });
    this.logGroup.grantWrite(this.role);

    this.function = new LambdaFunction(this, 'Function', {
      code: Code.fromAsset(REPO_ROOT, {
        assetHashType: AssetHashType.OUTPUT,
        bundling: {
          // Never used: bundling runs here with esbuild (tryBundle), no container needed.
          image: DockerImage.fromRegistry('public.ecr.aws/sam/build-nodejs22.x'),
          // Part of the bundling cache key: without the entry, every function would reuse the first bundle.
          command: ['bundle', props.entry],
          local: {
            tryBundle(outputDir) {
              bundleFunction(props.entry, outputDir);
              return true;
            },
          },
        },
      }),
      functionName: props.functionName,
      handler: `${BUNDLE_ENTRY_FILE.replace(/\.mjs$/, '')}.${props.handler ?? 'handler'}`,
      description: props.description,
      runtime: Runtime.NODEJS_22_X,
      architecture: Architecture.ARM_64,
      memorySize: props.memorySize ?? 512,
      timeout: props.timeout ?? Duration.seconds(10),
      tracing: Tracing.ACTIVE,
      reservedConcurrentExecutions: props.reservedConcurrentExecutions,
      role: this.role,
      logGroup: this.logGroup,
      environment: {
        NODE_OPTIONS: '--enable-source-maps',
        POWERTOOLS_SERVICE_NAME: props.serviceName ?? 'hangar',
        ...props.environment,
      },
    });

    Validations.of(this).acknowledge({
      id: 'AwsSolutions-L1',
      reason:
        'Node.js 22 is the pinned Lambda runtime of every function: bundles target node22. The code also runs on ' +
        'Node.js 20 (the engines floor, which CI and the local runtime use), so it relies on nothing newer than 20. Moving ' +
        'Lambda to a newer runtime is a deliberate, tested upgrade of the whole project, not a per-function drift.',
    });
    Validations.of(this.role).acknowledge({
      id: 'AwsSolutions-IAM5[Resource::*]',
      reason:
        'Added by active tracing: xray:PutTraceSegments and xray:PutTelemetryRecords support no resource-level ' +
        'permissions, so AWS requires Resource "*" for them.',
    });
  }

  /**
   * Names the table in TABLE_NAME and grants item access to it and its indexes, by name (from the
   * shared table definition) rather than `index/*`.
   */
  bindTable(table: ITableV2, access: TableAccess): this {
    this.function.addEnvironment('TABLE_NAME', table.tableName);
    const indexArns = TABLE.indexes.map((index) => `${table.tableArn}/index/${index.name}`);
    this.role.addToPrincipalPolicy(
      new PolicyStatement({ actions: READ_ACTIONS, resources: [table.tableArn, ...indexArns] }),
    );
    if (access === 'RW') {
      // Writes go to the base table; DynamoDB maintains the indexes.
      this.role.addToPrincipalPolicy(new PolicyStatement({ actions: WRITE_ACTIONS, resources: [table.tableArn] }));
    }
    return this;
  }

  /**
   * Names the deployment in HANGAR_DEPLOYMENT (the `hangar:deployment` tag the EC2 adapter stamps on
   * every machine and scopes its listings by) and grants the EC2 and STS actions of `access`, every
   * machine action conditioned on that tag: see compute-access.ts. The statements sit in a policy of
   * their own (`ComputePolicy`), so each wildcard the EC2 API forces is acknowledged there, with why.
   */
  bindCompute(access: ComputeAccess, deployment: string): this {
    this.function.addEnvironment('HANGAR_DEPLOYMENT', deployment);
    const policy = new Policy(this, 'ComputePolicy', { statements: computeStatements(access, deployment) });
    policy.attachToRole(this.role);
    Validations.of(policy).acknowledge(
      ...Object.entries(computeWildcardReasons(access)).map(([resource, reason]) => ({
        id: `AwsSolutions-IAM5[Resource::${nagResource(this, resource)}]`,
        reason,
      })),
    );
    return this;
  }

  /**
   * Names the secrets key in SECRETS_KMS_KEY_ID (its ARN) and grants the KMS actions of `access`
   * on that key alone. Same-account grants go in the role's policy; the key policy delegates to IAM.
   */
  bindSecrets(key: IKey, access: SecretsAccess): this {
    this.function.addEnvironment(SECRETS_KEY_VARIABLE, key.keyArn);
    this.role.addToPrincipalPolicy(new PolicyStatement({ actions: SECRETS_ACTIONS[access], resources: [key.keyArn] }));
    return this;
  }
}
