// The one deliberate internal entry (@convoy/functions-host/internal): the Service Bus pieces the
// reference consumers in bench/ drive directly, to compare against the host's own receive path.
export { acceptWindowMs, createClient } from './host/serviceBus/client';
export { tuneClientSocketsForAmqp } from './host/serviceBus/clientSockets';
export { receiverOptions } from './host/serviceBus/settle';
export { EmulatorConnection, emulatorEndpointOf } from './host/serviceBus/amqp/connection';
