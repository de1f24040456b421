#!/usr/bin/env -S npx tsx
/** The CDK app (cdk.json runs it): `npx cdk synth -c stage=dev`, `npx cdk deploy --all -c stage=prod`. */
import { App } from 'aws-cdk-lib';
import { defineHangarApp } from './hangar-app.ts';
import { InvalidStageError } from './stage.ts';

try {
  defineHangarApp(new App());
} catch (error) {
  // A mistyped stage is a usage error: say what is wrong, without a stack trace.
  if (!(error instanceof InvalidStageError)) throw error;
  console.error(error.message);
  process.exit(1);
}
