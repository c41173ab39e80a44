/// <reference types="vite/client" />

declare module 'virtual:schema' {
  import type { IntrospectionQuery } from 'graphql';
  const introspection: IntrospectionQuery;
  export default introspection;
}
