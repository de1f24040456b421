import { generateKeyPairSync } from 'node:crypto';
import type { ImageReference, VirtualMachine } from '@azure/arm-compute';
import { ProviderError } from '../../domain/errors.ts';
import type { LaunchSpec } from '../../ports/compute-provider.ts';

/** Ownership tags on every VM (and its NIC and public IP): Hangar's id, its client, its deployment. */
export const OWNER_TAG = 'hangar:instance-id';
export const CLIENT_TAG = 'hangar:client-id';
export const DEPLOYMENT_TAG = 'hangar:deployment';

/** Azure's limits: 50 tags a resource, names up to 512 and values up to 256 characters, none of <>%&\?/. */
const MAX_TAGS = 50;
const TAG_NAME = /^[^<>%&\\?/]{1,512}$/;
const MAX_TAG_VALUE = 256;
/** Linux VM names: 1–64 letters, digits, hyphens; Hangar ids always fit. */
const VM_NAME = /^[a-zA-Z0-9][a-zA-Z0-9-]{0,63}$/;
/** customData is at most 64 KiB once base64-encoded. */
const CUSTOM_DATA_MAX = 65_535;
export const ADMIN_USERNAME = 'hangar';

/** The resources Azure creates with the VM, named from it so a retry and a cleanup find them. */
export const resourceNames = (vmName: string) => ({ nic: `${vmName}-nic`, publicIp: `${vmName}-ip`, osDisk: `${vmName}-osdisk` });

/**
 * Marketplace images by the Azure CLI's aliases (`az vm image list --output table`); any other
 * image is a URN (`Publisher:Offer:Sku:Version`), a custom image's resource id, or the name of a
 * custom image in the account's resource group.
 */
export const IMAGE_ALIASES: Readonly<Record<string, string>> = {
  Ubuntu2204: 'Canonical:0001-com-ubuntu-server-jammy:22_04-lts-gen2:latest',
  Ubuntu2404: 'Canonical:ubuntu-24_04-lts:server:latest',
  Debian12: 'Debian:debian-12:12-gen2:latest',
  // NVIDIA drivers, CUDA and InfiniBand preinstalled: what the GPU sizes are usually booted from.
  UbuntuHpc2204: 'microsoft-dsvm:ubuntu-hpc:2204:latest',
};
export const DEFAULT_IMAGE = 'Ubuntu2204';

export function imageReferenceOf(image: string | undefined, subscriptionId: string, resourceGroup: string): ImageReference {
  const wanted = (image ?? DEFAULT_IMAGE).trim();
  const urn = IMAGE_ALIASES[wanted] ?? wanted;
  const parts = urn.split(':');
  if (parts.length === 4 && parts.every((part) => part.length > 0)) {
    const [publisher, offer, sku, version] = parts as [string, string, string, string];
    return { publisher, offer, sku, version };
  }
  if (urn.startsWith('/subscriptions/')) return { id: urn };
  return { id: `/subscriptions/${subscriptionId}/resourceGroups/${resourceGroup}/providers/Microsoft.Compute/images/${urn}` };
}

export function tagsFor(spec: LaunchSpec, deployment: string | undefined): Record<string, string> {
  return {
    ...spec.tags,
    [OWNER_TAG]: spec.instanceId,
    [CLIENT_TAG]: spec.clientId,
    ...(deployment ? { [DEPLOYMENT_TAG]: deployment } : {}),
  };
}

const invalid = (message: string) => new ProviderError(message, 'invalid-request');

/** Refuse what Azure would refuse, before anything is created. */
export function checkAzureLaunchSpec(spec: LaunchSpec, region: string, deployment: string | undefined): void {
  if (spec.region !== region) throw invalid(`This Azure account is set up for region ${region}, not ${spec.region}`);
  if (!VM_NAME.test(spec.instanceId)) throw invalid(`Instance id ${spec.instanceId} cannot name an Azure VM (1–64 letters, digits and hyphens)`);
  const tags = tagsFor(spec, deployment);
  if (Object.keys(tags).length > MAX_TAGS) throw invalid(`Too many tags for Azure (at most ${MAX_TAGS - 3} of your own)`);
  for (const [key, value] of Object.entries(tags)) {
    if (!TAG_NAME.test(key) || value.length > MAX_TAG_VALUE) {
      throw invalid(`Tag '${key.slice(0, 40)}' does not fit Azure (names up to 512 characters without <>%&\\?/, values up to 256)`);
    }
  }
  if (spec.userData !== undefined && Buffer.from(spec.userData).toString('base64').length > CUSTOM_DATA_MAX) {
    throw invalid(`userData is too large for Azure (at most ${CUSTOM_DATA_MAX} characters once base64-encoded)`);
  }
  if (spec.diskSizeGB !== undefined && (spec.diskSizeGB < 30 || spec.diskSizeGB > 4095)) {
    throw invalid(`An Azure OS disk is 30 to 4095 GB, not ${spec.diskSizeGB}`);
  }
}

export interface ResolvedPlacement {
  subnetId: string;
  networkSecurityGroupId?: string;
  sshPublicKey: string;
}

/**
 * The VM as created: NIC and public IP declared in the VM itself (networkInterfaceConfigurations)
 * so Azure creates them with it in one request, and every one of them — NIC, public IP, OS disk
 * — with deleteOption Delete, so deleting the VM deletes them too.
 */
export function virtualMachineFor(
  spec: LaunchSpec,
  placement: ResolvedPlacement,
  image: ImageReference,
  deployment: string | undefined,
): VirtualMachine {
  const names = resourceNames(spec.instanceId);
  return {
    location: spec.region,
    tags: tagsFor(spec, deployment),
    hardwareProfile: { vmSize: spec.instanceType },
    storageProfile: {
      imageReference: image,
      osDisk: {
        name: names.osDisk,
        createOption: 'FromImage',
        deleteOption: 'Delete',
        managedDisk: { storageAccountType: 'StandardSSD_LRS' },
        ...(spec.diskSizeGB !== undefined ? { diskSizeGB: spec.diskSizeGB } : {}),
      },
    },
    osProfile: {
      computerName: spec.instanceId,
      adminUsername: ADMIN_USERNAME,
      linuxConfiguration: {
        disablePasswordAuthentication: true,
        ssh: { publicKeys: [{ path: `/home/${ADMIN_USERNAME}/.ssh/authorized_keys`, keyData: placement.sshPublicKey }] },
      },
      ...(spec.userData !== undefined ? { customData: Buffer.from(spec.userData).toString('base64') } : {}),
    },
    networkProfile: {
      networkApiVersion: '2022-11-01',
      networkInterfaceConfigurations: [
        {
          name: names.nic,
          primary: true,
          deleteOption: 'Delete',
          ...(placement.networkSecurityGroupId ? { networkSecurityGroup: { id: placement.networkSecurityGroupId } } : {}),
          ipConfigurations: [
            {
              name: 'ipconfig1',
              primary: true,
              subnet: { id: placement.subnetId },
              publicIPAddressConfiguration: {
                name: names.publicIp,
                deleteOption: 'Delete',
                sku: { name: 'Standard' },
                publicIPAllocationMethod: 'Static',
              },
            },
          ],
        },
      ],
    },
  };
}

/**
 * A Linux VM needs an SSH key. Without a keyPair the VM gets a fresh key whose private half is
 * thrown away: nobody can log in with it, and access is whatever userData (cloud-init) sets up.
 */
export function throwawaySshPublicKey(): string {
  const { publicKey } = generateKeyPairSync('rsa', { modulusLength: 3072 });
  const jwk = publicKey.export({ format: 'jwk' });
  const field = (bytes: Buffer) => {
    const length = Buffer.alloc(4);
    length.writeUInt32BE(bytes.length);
    return Buffer.concat([length, bytes]);
  };
  // An mpint is positive: a leading 1 bit needs a zero byte in front.
  const mpint = (base64url: string) => {
    const bytes = Buffer.from(base64url, 'base64url');
    return field(bytes[0]! & 0x80 ? Buffer.concat([Buffer.from([0]), bytes]) : bytes);
  };
  const blob = Buffer.concat([field(Buffer.from('ssh-rsa')), mpint(jwk.e!), mpint(jwk.n!)]);
  return `ssh-rsa ${blob.toString('base64')} hangar-throwaway`;
}
