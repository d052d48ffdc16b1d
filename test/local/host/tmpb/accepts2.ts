import { enableNoDelayForClientSockets } from '../../../../local/host/serviceBus/noDelay';
if (process.env.ND === '1') enableNoDelayForClientSockets();
import('./accepts3').catch(console.error);
