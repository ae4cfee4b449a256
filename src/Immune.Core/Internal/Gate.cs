// The lock type of the service and the in-memory stream: System.Threading.Lock where the framework has it (.NET 9+),
// a plain object before; `lock (gate)` reads the same for both.
#if NET9_0_OR_GREATER
global using Gate = System.Threading.Lock;
#else
global using Gate = System.Object;
#endif
