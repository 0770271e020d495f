using Engine.Host;

return Cli.Run(args, Console.Out, Console.Error);
