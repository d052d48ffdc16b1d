import { app } from '@azure/functions';

// HTTP bodies arrive over RPC: the producer's payloads are small and bounded (≤ 1 MiB).
app.setup({ enableHttpStream: false });
