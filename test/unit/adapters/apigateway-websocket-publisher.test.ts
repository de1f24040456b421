import { ApiGatewayManagementApiClient, GoneException, PostToConnectionCommand } from '@aws-sdk/client-apigatewaymanagementapi';
import { mockClient } from 'aws-sdk-client-mock';
import { beforeEach, describe, expect, it } from 'vitest';
import { ApiGatewayWebSocketPublisher } from '../../../shared/adapters/aws/apigateway-websocket-publisher.ts';

const api = mockClient(ApiGatewayManagementApiClient);

describe('the API Gateway WebSocket publisher', () => {
  beforeEach(() => api.reset());
  const publisher = () => new ApiGatewayWebSocketPublisher(new ApiGatewayManagementApiClient({ region: 'eu-west-1', endpoint: 'https://abc.execute-api.eu-west-1.amazonaws.com/live' }));

  it('posts the message as JSON to the connection', async () => {
    api.on(PostToConnectionCommand).resolves({});
    expect(await publisher().send('L0SM9cOFvHcCIhw=', { type: 'pong' })).toBe('sent');
    const input = api.commandCalls(PostToConnectionCommand)[0]!.args[0].input;
    expect(input.ConnectionId).toBe('L0SM9cOFvHcCIhw=');
    expect(JSON.parse(Buffer.from(input.Data as Uint8Array).toString())).toEqual({ type: 'pong' });
  });

  it('answers gone for a closed socket (SDK v3 names the error, it has no statusCode of its own)', async () => {
    api.on(PostToConnectionCommand).rejects(new GoneException({ message: 'gone', $metadata: {} }));
    expect(await publisher().send('closed', { type: 'pong' })).toBe('gone');
  });

  it('lets any other failure through', async () => {
    api.on(PostToConnectionCommand).rejects(Object.assign(new Error('Rate exceeded'), { name: 'LimitExceededException' }));
    await expect(publisher().send('busy', { type: 'pong' })).rejects.toThrow('Rate exceeded');
  });
});
