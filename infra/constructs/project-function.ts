import { Duration, RemovalPolicy, Validations } from 'aws-cdk-lib';
import type { ITableV2 } from 'aws-cdk-lib/aws-dynamodb';
import { PolicyStatement, Role, ServicePrincipal } from 'aws-cdk-lib/aws-iam';
import type { IKey } from 'aws-cdk-lib/aws-kms';
import { Architecture, Runtime, Tracing } from 'aws-cdk-lib/aws-lambda';
import { NodejsFunction, OutputFormat, SourceMapMode } from 'aws-cdk-lib/aws-lambda-nodejs';
import { LogGroup, RetentionDays } from 'aws-cdk-lib/aws-logs';
import { Construct } from 'constructs';
import { SECRETS_KEY_VARIABLE } from '../../shared/adapters/aws/kms-secret-box.ts';
import { TABLE } from '../../shared/db/table-definition.ts';
import { fromRepoRoot, REPO_ROOT } from '../paths.ts';

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

/** Lets ESM bundles load the CommonJS dependencies esbuild leaves as `require` calls. */
const ESM_REQUIRE_BANNER = "import { createRequire } from 'module'; const require = createRequire(import.meta.url);";

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
  /** @default one month */
  readonly logRetention?: RetentionDays;
  /** What happens to the log group when the stack is deleted. @default RemovalPolicy.DESTROY */
  readonly logRemovalPolicy?: RemovalPolicy;
}

/**
 * Every Lambda function of the project: Node.js 22 on arm64, traced, logging to its own log group
 * with a retention, bundled by esbuild as a minified, tree-shaken ESM file that carries its own
 * AWS SDK. Its role starts empty (writes to its own log group, X-Ray) and gains table and key access
 * only through `bindTable` and `bindSecrets`, which keep each grant next to the variable that names
 * the table or the key.
 */
export class ProjectFunction extends Construct {
  readonly function: NodejsFunction;
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

    this.function = new NodejsFunction(this, 'Function', {
      entry: fromRepoRoot(props.entry),
      functionName: props.functionName,
      handler: props.handler ?? 'handler',
      description: props.description,
      projectRoot: REPO_ROOT,
      depsLockFilePath: fromRepoRoot('package-lock.json'),
      runtime: Runtime.NODEJS_22_X,
      architecture: Architecture.ARM_64,
      memorySize: props.memorySize ?? 512,
      timeout: props.timeout ?? Duration.seconds(10),
      tracing: Tracing.ACTIVE,
      role: this.role,
      logGroup: this.logGroup,
      // The flag only matters to the AWS SDK v2, which nothing here uses.
      awsSdkConnectionReuse: false,
      environment: {
        NODE_OPTIONS: '--enable-source-maps',
        POWERTOOLS_SERVICE_NAME: props.serviceName ?? 'hangar',
        ...props.environment,
      },
      bundling: {
        format: OutputFormat.ESM,
        target: 'node22',
        minify: true,
        sourceMap: true,
        // A .map file beside the bundle, linked by a sourceMappingURL comment (read via --enable-source-maps).
        sourceMapMode: SourceMapMode.DEFAULT,
        // Stack traces need file and line, not the sources: keeps the .map small.
        sourcesContent: false,
        // Prefer packages' ESM builds so esbuild can tree-shake them.
        mainFields: ['module', 'main'],
        esbuildArgs: { '--tree-shaking': 'true' },
        // Bundle the AWS SDK v3: pinned versions, and only the commands a handler imports ship.
        externalModules: [],
        banner: ESM_REQUIRE_BANNER,
      },
    });

    Validations.of(this).acknowledge({
      id: 'AwsSolutions-L1',
      reason:
        'Node.js 22 is the pinned project runtime: bundles target node22 and the local runtime and CI run the same ' +
        'major. Moving to a newer runtime is a deliberate, tested upgrade of the whole project, not a per-function drift.',
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
   * Names the secrets key in SECRETS_KMS_KEY_ID (its ARN) and grants the KMS actions of `access`
   * on that key alone. Same-account grants go in the role's policy; the key policy delegates to IAM.
   */
  bindSecrets(key: IKey, access: SecretsAccess): this {
    this.function.addEnvironment(SECRETS_KEY_VARIABLE, key.keyArn);
    this.role.addToPrincipalPolicy(new PolicyStatement({ actions: SECRETS_ACTIONS[access], resources: [key.keyArn] }));
    return this;
  }
}
