/**
 * A plugin as it appears in the configuration's `plugins` list. The context handed to
 * `register` is defined by the plugin host.
 */
export interface KronusPlugin<Options = unknown> {
  name: string
  version: string
  options: Options
  register(context: any, options: Options): void | Promise<void>
}
