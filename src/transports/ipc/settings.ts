/** Where the instance bus listens (from `--bus-port`, `--bus-host`, `--no-bus` and their environment). */
export interface BusConfig {
  enabled: boolean;
  host: string;
  port?: number;
}
