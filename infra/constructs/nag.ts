import { Stack } from 'aws-cdk-lib';
import type { Construct } from 'constructs';

/**
 * A resource as cdk-nag names it in a finding (`<AWS::Region>`, `<Fn123.Arn>`), so that an
 * acknowledgement covers that resource alone, whether or not the stack's account and region are known.
 */
export function nagResource(scope: Construct, value: string): string {
  const part = (token: unknown): string => {
    if (typeof token === 'string') return token;
    const ref = (token as { Ref?: string }).Ref;
    if (ref) return `<${ref}>`;
    const attribute = (token as { 'Fn::GetAtt'?: [string, string] })['Fn::GetAtt'];
    if (attribute) return `<${attribute[0]}.${attribute[1]}>`;
    const join = (token as { 'Fn::Join'?: [string, unknown[]] })['Fn::Join'];
    if (join) return join[1].map(part).join(join[0]);
    throw new Error(`No cdk-nag name for ${JSON.stringify(token)}`);
  };
  return part(Stack.of(scope).resolve(value));
}
