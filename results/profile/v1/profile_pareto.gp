# profile_pareto.gp: bandwidth vs per-frame mIoU of every configuration, standard and tail frames, frontier joined
if (strstrt(GPVAL_TERMINALS, 'pngcairo') > 0) { set terminal pngcairo size 1100,480 font ',10' } else { set terminal png size 1100,480 }
set output 'profile_pareto.png'
set multiplot layout 1,2
set logscale x
set grid
set xlabel 'Mbps at 30 fps'
set ylabel 'mean per-frame mIoU (%)'
set key bottom right
set title 'standard frames'
plot 'profile_pareto.dat' index 0 using 3:4:($1==1 ? sprintf("HR q%d", $2) : sprintf("x%d q%d", $1, $2)) with labels font ',7' offset 0,0.6 notitle, '' index 0 using 3:4 with points pt 7 ps 0.6 title 'configurations', '' index 1 using 3:4 with linespoints lw 2 pt 6 title 'frontier'
set title 'tail frames'
plot 'profile_pareto.dat' index 2 using 3:4:($1==1 ? sprintf("HR q%d", $2) : sprintf("x%d q%d", $1, $2)) with labels font ',7' offset 0,0.6 notitle, '' index 2 using 3:4 with points pt 7 ps 0.6 title 'configurations', '' index 3 using 3:4 with linespoints lw 2 pt 6 title 'frontier'
unset multiplot
